import { Badge } from '@/components/ui/badge';
import { STEPS } from '@/lib/saga/model';
import { COMPENSATION_LABEL, STEP_DONE_LABEL, STEP_LABEL } from './saga-labels';
import type { DiagramModel, StepStatus, UndoStatus } from './saga-view-model';
import styles from './saga-diagram.module.css';

const STEP_STATUS: Record<StepStatus, string> = {
  done: 'Done',
  running: 'In progress…',
  stuck: 'Stuck: needs intervention',
  failed: 'Failed',
  cancelled: 'Cancelled by operator',
  waiting: 'Not yet',
  'not-reached': 'Not reached',
};
const STEP_CLASS: Record<StepStatus, string | undefined> = {
  done: styles.done,
  running: styles.running,
  stuck: styles.stuck,
  failed: styles.failed,
  cancelled: styles.cancelled,
  waiting: styles.waiting,
  'not-reached': styles.notReached,
};
const UNDO_STATUS: Record<UndoStatus, string> = {
  'rolled-back': 'Rolled back',
  running: 'Rolling back…',
  incomplete: 'Rollback incomplete',
  waiting: 'Waiting',
};
const UNDO_CLASS: Record<UndoStatus, string | undefined> = {
  'rolled-back': styles.rolledBack,
  running: styles.running,
  incomplete: styles.incomplete,
  waiting: styles.waiting,
};

/**
 * The saga as its state machine: the four steps left to right with the path taken highlighted,
 * then (after a failure or a cancel) the unwind under the steps it undoes, running right to
 * left, numbered in the order it runs.
 */
export function SagaDiagram({ model }: { model: DiagramModel }) {
  const column = (step: string) => STEPS.indexOf(step as (typeof STEPS)[number]) + 1;
  return (
    <div className={styles.diagram}>
      <div>
        <h3 className={styles.rowLabel} id="steps-label">
          Steps
        </h3>
        <ol className={`${styles.grid} ${styles.forward}`} aria-labelledby="steps-label">
          {model.steps.map(({ step, status }) => (
            <li
              key={step}
              className={`${styles.node} ${STEP_CLASS[status] ?? ''}`}
              data-step={step}
              data-status={status}
            >
              <span className={styles.nodeTitle}>
                {status === 'done' ? STEP_DONE_LABEL[step] : STEP_LABEL[step]}
              </span>
              <span className={styles.nodeStatus}>{STEP_STATUS[status]}</span>
            </li>
          ))}
          <li
            className={`${styles.node} ${styles.end} ${model.completed ? styles.done : ''}`}
            data-status={model.completed ? 'done' : 'waiting'}
          >
            <span className={styles.nodeTitle}>Completed</span>
            <span className={styles.nodeStatus}>
              {model.completed ? 'Done' : model.unwind ? 'Not reached' : 'Not yet'}
            </span>
          </li>
        </ol>
      </div>
      {model.unwind ? (
        <div>
          <div className={styles.summary}>
            <h3 className={styles.rowLabel} id="unwind-label" style={{ margin: 0 }}>
              Compensations (newest first)
            </h3>
            <Badge
              tone={
                model.unwind.status === 'rolled-back'
                  ? 'warning'
                  : model.unwind.status === 'incomplete'
                    ? 'danger'
                    : 'info'
              }
            >
              {model.unwind.status === 'rolled-back'
                ? 'Rolled back'
                : model.unwind.status === 'incomplete'
                  ? 'Rollback incomplete'
                  : 'Rolling back…'}
            </Badge>
          </div>
          <ol
            className={`${styles.grid} ${styles.unwind}`}
            aria-labelledby="unwind-label"
            style={{ marginTop: '0.4rem' }}
          >
            {model.unwind.items.map((item, i) => (
              <li
                key={item.task}
                className={`${styles.node} ${UNDO_CLASS[item.status] ?? ''} ${i === model.unwind!.items.length - 1 ? styles.last : ''}`}
                style={{ gridColumn: column(item.undoes), gridRow: 1 }}
                data-task={item.task}
                data-status={item.status}
              >
                <span className={styles.nodeTitle}>
                  <span className={styles.order} aria-hidden="true">
                    {i + 1}
                  </span>
                  {COMPENSATION_LABEL[item.task]}
                </span>
                <span className={styles.nodeStatus}>{UNDO_STATUS[item.status]}</span>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </div>
  );
}
