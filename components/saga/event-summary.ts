import type { Tone } from '@/components/ui/badge';
import type { StoredEvent } from '@/lib/saga/events';
import { humanize } from '@/lib/web/format';

export interface EventSummary {
  title: string;
  detail: string | null;
  tone: Tone;
  /** Who did it, for operator actions. */
  actor: string | null;
  reason: string | null;
}

const lines = (ls: readonly { sku: string; quantity: number }[]) =>
  ls.map((l) => `${l.sku} × ${l.quantity}`).join(', ');

/** One line per event for the timeline: what happened, in words; the payload stays one click away. */
export function summarizeEvent(event: StoredEvent): EventSummary {
  const base = {
    title: humanize(event.type),
    detail: null,
    tone: 'neutral' as Tone,
    actor: event.metadata?.actor ?? null,
    reason: null,
  };
  switch (event.type) {
    case 'order.created': {
      const p = event.payload;
      return {
        ...base,
        title: 'Order created',
        tone: 'info',
        detail: `${lines(p.medications)} · patient ${p.patientId} · ship to ${p.shippingAddress.postalCode} ${p.shippingAddress.city}`,
      };
    }
    case 'order.prescription_created':
      return { ...base, tone: 'success', detail: `Prescription ${event.payload.prescriptionId}` };
    case 'order.inventory_reserved':
      return { ...base, tone: 'success', detail: lines(event.payload.lines) };
    case 'order.shipment_initiated':
      return {
        ...base,
        tone: 'success',
        detail: `Shipment ${event.payload.shipmentId} · carrier ref ${event.payload.carrierReference}`,
      };
    case 'order.prescription_failed':
    case 'order.shipment_initiation_failed':
      return { ...base, tone: 'danger', detail: `${event.payload.reason} (${event.payload.code})` };
    case 'order.inventory_reservation_failed':
      return {
        ...base,
        tone: 'danger',
        detail: `${event.payload.reason}${event.payload.shortages.length ? ` · short: ${event.payload.shortages.map((s) => `${s.sku} (${s.available}/${s.requested})`).join(', ')}` : ''}`,
      };
    case 'order.prescription_cancelled':
      return {
        ...base,
        tone: 'warning',
        detail: `Prescription ${event.payload.prescriptionId} cancelled`,
      };
    case 'order.inventory_released':
      return {
        ...base,
        tone: 'warning',
        detail: event.payload.lines.length ? lines(event.payload.lines) : 'Nothing was held',
      };
    case 'order.cancelled':
      return { ...base, title: 'Order cancelled', tone: 'warning', detail: event.payload.reason };
    case 'order_fulfillment_saga.started':
      return { ...base, title: 'Saga started' };
    case 'order_fulfillment_saga.state_changed':
      return {
        ...base,
        title: 'State changed',
        detail: `${event.payload.from} → ${event.payload.to}`,
      };
    case 'order_fulfillment_saga.compensation_recorded':
      return {
        ...base,
        tone: 'warning',
        title: 'Compensation recorded',
        detail: `${humanize(event.payload.task)} undid ${humanize(event.payload.compensates)}`,
      };
    case 'order_fulfillment_saga.failed':
      return {
        ...base,
        tone: 'danger',
        title: 'Saga failed',
        detail: `${humanize(event.payload.failedStep)}: ${event.payload.reason}`,
      };
    case 'order_fulfillment_saga.completed':
      return { ...base, tone: 'success', title: 'Saga completed' };
    case 'order_fulfillment_saga.retry_requested':
      return {
        ...base,
        tone: 'info',
        title: 'Retry requested',
        detail: `Re-run ${humanize(event.payload.task)}`,
        actor: event.payload.actor,
        reason: event.payload.reason,
      };
    case 'order_fulfillment_saga.cancel_requested':
      return {
        ...base,
        tone: 'info',
        title: 'Cancel requested',
        detail: `Stopped in ${event.payload.fromState}`,
        actor: event.payload.actor,
        reason: event.payload.reason,
      };
    case 'order_fulfillment_saga.attempt_failed':
      return {
        ...base,
        tone: 'warning',
        title: 'Attempt failed',
        detail: `${humanize(event.payload.task)}, attempt ${event.payload.attempt} of ${event.payload.maxAttempts}: ${event.payload.error}`,
      };
    case 'order_fulfillment_saga.intervention_required':
      return { ...base, tone: 'danger', title: 'Needs intervention', detail: event.payload.reason };
    default: {
      const unreachable: never = event;
      return { ...base, detail: String((unreachable as StoredEvent).type) };
    }
  }
}
