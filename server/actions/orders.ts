'use server';

import { redirect } from 'next/navigation';
import { getDb } from '@/db/client';
import { requireOperator } from '@/server/auth/guards';
import { createOrder } from '@/server/commands/create-order';
import { refusalResult, type ActionResult } from '@/server/web/action-result';
import { MAX_ORDER_LINES } from '@/server/commands/order-input';

const text = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === 'string' ? v.trim() : '';
};

/** FormData → the API's body shape; createOrder validates it with createOrderInputSchema. */
function orderBodyFrom(form: FormData): unknown {
  const medications: { sku: string; quantity: number }[] = [];
  for (let i = 0; i < MAX_ORDER_LINES + 1; i++) {
    if (!form.has(`medications.${i}.sku`)) break;
    const quantity = text(form, `medications.${i}.quantity`);
    medications.push({
      sku: text(form, `medications.${i}.sku`),
      quantity: quantity === '' ? Number.NaN : Number(quantity),
    });
  }
  const prescriberId = text(form, 'prescriberId');
  return {
    patientId: text(form, 'patientId'),
    ...(prescriberId ? { prescriberId } : {}),
    medications,
    shippingAddress: {
      line1: text(form, 'shippingAddress.line1'),
      city: text(form, 'shippingAddress.city'),
      postalCode: text(form, 'shippingAddress.postalCode'),
      country: text(form, 'shippingAddress.country'),
    },
  };
}

export async function createOrderAction(
  _previous: ActionResult | null,
  form: FormData,
): Promise<ActionResult> {
  let sagaId: string;
  try {
    const principal = await requireOperator();
    // The form's key: a resubmission with the same fields replays the first order.
    const result = await createOrder(getDb(), orderBodyFrom(form), {
      actor: principal.actor,
      idempotencyKey: text(form, 'idempotencyKey') || null,
    });
    sagaId = result.sagaId;
  } catch (error) {
    return refusalResult(error, 'order.create');
  }
  redirect(`/sagas/${sagaId}`);
}
