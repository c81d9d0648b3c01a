'use client';

import { useActionState, useState } from 'react';
import { setOnHandAction } from '@/server/actions/inventory';
import type { InventoryItem } from '@/db/queries/stock';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { FieldError, Input } from '@/components/ui/field';
import { Td } from '@/components/ui/table';
import { formatCount } from '@/lib/web/format';
import styles from './inventory.module.css';

const LOW_STOCK = 20;

/** One SKU: its levels, and for an operator an inline edit of the counted stock. */
export function StockRow({ item, canEdit }: { item: InventoryItem; canEdit: boolean }) {
  const [state, action, pending] = useActionState(setOnHandAction, null);
  const [editing, setEditing] = useState(false);
  const level = state?.ok ? { ...item, ...state.data } : item;
  const errors = state && !state.ok ? state.fieldErrors : {};
  const message = state && !state.ok && !errors.onHand ? state.message : null;
  return (
    <tr data-sku={item.sku}>
      <Td>
        <span className={styles.name}>{item.name}</span>
        <span className={styles.sku}>{item.sku}</span>
      </Td>
      <Td numeric>{formatCount(level.onHand)}</Td>
      <Td numeric>{formatCount(level.reserved)}</Td>
      <Td numeric>
        <span className={styles.available}>
          {formatCount(level.available)}
          {level.available <= 0 ? (
            <Badge tone="danger">Out</Badge>
          ) : level.available < LOW_STOCK ? (
            <Badge tone="warning">Low</Badge>
          ) : null}
        </span>
      </Td>
      {canEdit ? (
        <Td className={styles.editCell}>
          {editing ? (
            <form action={action} className={styles.edit}>
              <input type="hidden" name="sku" value={item.sku} />
              <Input
                name="onHand"
                type="number"
                min={level.reserved}
                defaultValue={level.onHand}
                aria-label={`On hand for ${item.sku}`}
                aria-invalid={errors.onHand ? true : undefined}
                className={styles.number}
              />
              <Input
                name="reason"
                placeholder="Reason (optional)"
                aria-label={`Reason for ${item.sku}`}
                maxLength={2000}
              />
              <Button type="submit" size="small" variant="primary" disabled={pending}>
                {pending ? 'Saving…' : 'Save'}
              </Button>
              <Button size="small" variant="ghost" onClick={() => setEditing(false)}>
                Close
              </Button>
              <FieldError errors={errors.onHand ?? (message ? [message] : undefined)} />
            </form>
          ) : (
            <Button
              size="small"
              onClick={() => setEditing(true)}
              aria-label={`Edit stock of ${item.sku}`}
            >
              Edit
            </Button>
          )}
          {state?.ok && !pending ? (
            <span role="status" className={styles.saved}>
              Saved
            </span>
          ) : null}
        </Td>
      ) : null}
    </tr>
  );
}
