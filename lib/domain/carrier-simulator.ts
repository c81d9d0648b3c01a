/**
 * The bundled carrier, deterministic like a payment provider's test cards:
 * `00000` is undeliverable, `00503` fails transiently on the first two attempts, `00504` on
 * every attempt. Any other postal code is accepted.
 */
const UNDELIVERABLE_POSTAL_CODE = '00000';
const FLAKY_POSTAL_CODE = '00503';
const UNAVAILABLE_POSTAL_CODE = '00504';

export type CarrierResponse =
  | { kind: 'accepted'; carrierReference: string }
  | { kind: 'rejected'; code: 'UNDELIVERABLE'; reason: string }
  | { kind: 'transient'; reason: string };

export interface ShipmentRequest {
  /** Carriers deduplicate on it: a repeated request returns the first shipment. */
  idempotencyKey: string;
  postalCode: string;
  /** 1 for the first try of this shipment. */
  attempt: number;
}

export function simulateCarrier(request: ShipmentRequest): CarrierResponse {
  switch (request.postalCode.trim()) {
    case UNDELIVERABLE_POSTAL_CODE:
      return {
        kind: 'rejected',
        code: 'UNDELIVERABLE',
        reason: 'carrier rejected the shipment: address undeliverable',
      };
    case FLAKY_POSTAL_CODE:
      if (request.attempt <= 2)
        return { kind: 'transient', reason: 'carrier unavailable (503), try again' };
      break;
    case UNAVAILABLE_POSTAL_CODE:
      return { kind: 'transient', reason: 'carrier gateway timeout (504)' };
  }
  return { kind: 'accepted', carrierReference: `SIM-${request.idempotencyKey}` };
}
