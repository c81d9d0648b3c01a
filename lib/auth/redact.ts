import { canOperate, type Principal } from './principal';

/**
 * Viewers see sagas and timelines with patient identifiers masked (`PAT-1001` → `PAT-****01`)
 * and the street line of the shipping address hidden; operators see them whole.
 */
function maskPatientId(id: string): string {
  const prefix = /^[A-Za-z]+-/.exec(id)?.[0] ?? '';
  const rest = id.slice(prefix.length);
  return `${prefix}****${rest.length >= 4 ? rest.slice(-2) : ''}`;
}

/** Everyone but a viewer (operators, admins, tokens); nobody who is not signed in. */
export const seesPatientData = (p: Principal | null) => canOperate(p);

/** Deep copy with every `patientId` masked and every `shippingAddress.line1` hidden. */
function redactPatientData<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      if (key === 'patientId' && typeof v === 'string') return [key, maskPatientId(v)];
      if (key === 'shippingAddress' && v && typeof v === 'object')
        return [key, { ...v, line1: '***' }];
      return [key, redact(v)];
    }),
  );
}

/** What a principal may see of a value carrying patient data. */
export const forViewer = <T>(p: Principal | null, value: T): T =>
  seesPatientData(p) ? value : redactPatientData(value);
