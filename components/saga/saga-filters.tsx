import Form from 'next/form';
import { LinkButton, Button } from '@/components/ui/button';
import { Field, Input, Select } from '@/components/ui/field';
import { SAGA_STATES } from '@/lib/saga/model';
import styles from './sagas-table.module.css';

/** A GET form: the filters live in the URL, so a filtered list can be bookmarked and shared. */
export function SagaFilters({
  state,
  needsIntervention,
  q,
  patientSearch,
}: {
  state?: string | undefined;
  needsIntervention?: boolean | undefined;
  q?: string | undefined;
  /** Whether the search also matches patient ids (not for viewers). */
  patientSearch: boolean;
}) {
  return (
    <Form action="/sagas" className={styles.filters} role="search" aria-label="Filter sagas">
      <Field label="State">
        {(c) => (
          <Select {...c} name="state" defaultValue={state ?? ''}>
            <option value="">Any state</option>
            {SAGA_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label="Needs intervention">
        {(c) => (
          <Select
            {...c}
            name="needsIntervention"
            defaultValue={needsIntervention === undefined ? '' : String(needsIntervention)}
          >
            <option value="">Either</option>
            <option value="true">Yes</option>
            <option value="false">No</option>
          </Select>
        )}
      </Field>
      <Field
        label={patientSearch ? 'Order, saga or patient id' : 'Order or saga id'}
        className={styles.search}
      >
        {(c) => (
          <Input {...c} name="q" type="search" defaultValue={q ?? ''} placeholder="Exact id" />
        )}
      </Field>
      <div className={styles.filterButtons}>
        <Button type="submit" variant="primary">
          Apply
        </Button>
        <LinkButton href="/sagas" variant="ghost">
          Clear
        </LinkButton>
      </div>
    </Form>
  );
}
