'use client';

import { startTransition, useActionState, useState, type FormEvent } from 'react';
import { createOrderAction } from '@/server/actions/orders';
import { Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Field, FieldError, Input, Select } from '@/components/ui/field';
import type { CatalogItem } from '@/db/queries/stock';
import { formatCount } from '@/lib/web/format';
import styles from './order-form.module.css';

export interface CatalogOption extends CatalogItem {
  available: number;
}

interface Line {
  key: number;
  sku: string;
  quantity: string;
}

let lineKey = 1;
const newLine = (sku = ''): Line => ({ key: lineKey++, sku, quantity: '1' });

/**
 * The order form: a server action parses it with the API's schema (createOrderInputSchema via
 * createOrder); each field's errors come back keyed by path and show under the field. Submitting
 * through startTransition keeps what was typed when the server refuses it. `idempotencyKey` goes
 * with every submission of this form (the API's Idempotency-Key): the same order is placed once.
 */
export function OrderForm({
  catalog,
  idempotencyKey,
}: {
  catalog: CatalogOption[];
  idempotencyKey: string;
}) {
  const [state, formAction, pending] = useActionState(createOrderAction, null);
  const [lines, setLines] = useState<Line[]>(() => [newLine(catalog[0]?.sku)]);
  const errors = state && !state.ok ? state.fieldErrors : {};
  const bySku = new Map(catalog.map((m) => [m.sku, m]));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    startTransition(() => formAction(data));
  }
  const update = (key: number, patch: Partial<Line>) =>
    setLines((all) => all.map((l) => (l.key === key ? { ...l, ...patch } : l)));

  return (
    <form
      action={formAction}
      onSubmit={onSubmit}
      className={styles.form}
      noValidate
      aria-describedby="order-form-status"
    >
      <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
      <div id="order-form-status" aria-live="polite">
        {state && !state.ok ? (
          <Notice tone="danger" role="alert">
            {state.message}
          </Notice>
        ) : null}
      </div>
      <Card title="Patient and prescriber">
        <div className={styles.row}>
          <Field label="Patient id" hint="For example PAT-1001" errors={errors.patientId}>
            {(c) => <Input {...c} name="patientId" autoComplete="off" required />}
          </Field>
          <Field
            label="Prescriber id (optional)"
            hint="Needed for prescription medicines"
            errors={errors.prescriberId}
          >
            {(c) => <Input {...c} name="prescriberId" autoComplete="off" />}
          </Field>
        </div>
      </Card>

      <Card title="Medications">
        <ol className={styles.lines}>
          {lines.map((line, i) => {
            const item = bySku.get(line.sku);
            return (
              <li key={line.key} className={styles.line}>
                <Field
                  label={`Medication ${i + 1}`}
                  errors={errors[`medications.${i}.sku`]}
                  className={styles.sku}
                >
                  {(c) => (
                    <Select
                      {...c}
                      name={`medications.${i}.sku`}
                      value={line.sku}
                      onChange={(e) => update(line.key, { sku: e.target.value })}
                    >
                      <option value="">Choose a medication…</option>
                      {catalog.map((m) => (
                        <option key={m.sku} value={m.sku} disabled={m.available <= 0}>
                          {m.name} ({m.sku}) · {formatCount(m.available)} available
                        </option>
                      ))}
                    </Select>
                  )}
                </Field>
                <Field
                  label="Quantity"
                  errors={errors[`medications.${i}.quantity`]}
                  hint={
                    item
                      ? `max ${item.maxQuantityPerOrder}${item.requiresPrescription ? ' · Rx' : ''}`
                      : undefined
                  }
                  className={styles.qty}
                >
                  {(c) => (
                    <Input
                      {...c}
                      name={`medications.${i}.quantity`}
                      type="number"
                      inputMode="numeric"
                      min={1}
                      value={line.quantity}
                      onChange={(e) => update(line.key, { quantity: e.target.value })}
                    />
                  )}
                </Field>
                <Button
                  variant="ghost"
                  size="small"
                  className={styles.remove}
                  onClick={() => setLines((all) => all.filter((l) => l.key !== line.key))}
                  disabled={lines.length === 1}
                  aria-label={`Remove medication ${i + 1}`}
                >
                  Remove
                </Button>
              </li>
            );
          })}
        </ol>
        <FieldError errors={errors.medications} />
        <Button
          size="small"
          onClick={() => setLines((all) => [...all, newLine()])}
          disabled={lines.length >= 50}
        >
          Add medication
        </Button>
      </Card>

      <Card title="Shipping address">
        <div className={styles.row}>
          <Field
            label="Street and number"
            errors={errors['shippingAddress.line1']}
            className={styles.wide}
          >
            {(c) => <Input {...c} name="shippingAddress.line1" autoComplete="address-line1" />}
          </Field>
          <Field label="City" errors={errors['shippingAddress.city']}>
            {(c) => <Input {...c} name="shippingAddress.city" autoComplete="address-level2" />}
          </Field>
          <Field
            label="Postal code"
            errors={errors['shippingAddress.postalCode']}
            hint="Carrier test codes: 00000 undeliverable, 00503 flaky, 00504 always down"
          >
            {(c) => <Input {...c} name="shippingAddress.postalCode" autoComplete="postal-code" />}
          </Field>
          <Field label="Country" errors={errors['shippingAddress.country']}>
            {(c) => (
              <Input
                {...c}
                name="shippingAddress.country"
                autoComplete="country-name"
                defaultValue="NL"
              />
            )}
          </Field>
        </div>
      </Card>

      <div className={styles.submit}>
        <Button type="submit" variant="primary" disabled={pending} aria-disabled={pending}>
          {pending ? 'Placing order…' : 'Place order'}
        </Button>
      </div>
    </form>
  );
}
