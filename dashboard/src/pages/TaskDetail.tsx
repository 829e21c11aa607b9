// One task: prompt, status, attempts (why chosen, why ended), tokens and cost, and the
// event log, which the WebSocket keeps growing while the task runs.
import { ArrowLeft, Square } from "lucide-react";
import { Link, useParams } from "react-router";
import { useCancelTask, useTask, useTaskEvents } from "../api/queries";
import type { TaskDetail as Task } from "../api/types";
import { EventLog } from "../components/EventLog";
import {
  Badge,
  Card,
  Empty,
  ErrorBox,
  Spinner,
  StatusBadge,
  outcomeBadgeTone,
  secondaryButtonClass,
} from "../components/ui";
import { fmtDuration, fmtTime, fmtTokens, fmtUsd } from "../lib/format";

function Figure({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-500 dark:text-slate-400">{label}</dt>
      <dd data-testid={testId} className="font-medium tabular-nums">
        {value}
      </dd>
    </div>
  );
}

function Attempts({ task }: { task: Task }) {
  if (task.attempts.length === 0) return <Empty>No attempt yet.</Empty>;
  return (
    <ol className="space-y-3">
      {task.attempts.map((a) => (
        <li
          key={a.id}
          data-testid="attempt"
          className="rounded-lg border border-slate-200 p-3 text-sm dark:border-slate-800"
        >
          <div className="flex flex-wrap items-center gap-2">
            <span className="font-semibold">#{a.number}</span>
            <span data-testid="attempt-provider" className="font-medium">
              {a.provider}/{a.accessMode}
            </span>
            {a.model && <Badge>{a.model}</Badge>}
            {/* A running attempt's outcome is "running" until it ends. */}
            <Badge testId="attempt-outcome" tone={outcomeBadgeTone(a.outcome || "running")}>
              {a.outcome || "running"}
            </Badge>
            <span className="ml-auto text-xs text-slate-500">
              {fmtTime(a.startedAt)} → {a.finishedAt ? fmtTime(a.finishedAt) : "…"}
            </span>
          </div>
          <dl className="mt-2 grid gap-1 text-xs sm:grid-cols-[8rem_1fr]">
            <dt className="text-slate-500">Why chosen</dt>
            <dd>{a.reason ?? "—"}</dd>
            <dt className="text-slate-500">Why it ended</dt>
            <dd>
              {a.outcomeMessage ?? (a.outcome && a.outcome !== "running" ? a.outcome : "still running")}
              {a.exitCode != null && <span className="text-slate-500"> (exit {a.exitCode})</span>}
              {a.resetAt && <span className="text-slate-500"> · resets {fmtTime(a.resetAt)}</span>}
            </dd>
            <dt className="text-slate-500">Tokens · cost</dt>
            <dd className="tabular-nums">
              {fmtTokens(a.inputTokens)} in / {fmtTokens(a.outputTokens)} out · {fmtUsd(a.costUsd)}{" "}
              <span className="text-slate-500">(API value {fmtUsd(a.apiCostUsd)})</span>
            </dd>
            {a.filesChanged && a.filesChanged.length > 0 && (
              <>
                <dt className="text-slate-500">Files changed</dt>
                <dd className="font-mono">{a.filesChanged.join(", ")}</dd>
              </>
            )}
            {a.sessionId && (
              <>
                <dt className="text-slate-500">Session</dt>
                <dd className="font-mono">{a.sessionId}</dd>
              </>
            )}
          </dl>
        </li>
      ))}
    </ol>
  );
}

export default function TaskDetail() {
  const id = Number(useParams().id);
  const task = useTask(id);
  const events = useTaskEvents(id);
  const cancel = useCancelTask(id);

  if (task.isPending) return <Spinner />;
  if (task.isError) return <ErrorBox error={task.error} onRetry={() => task.refetch()} />;
  const t = task.data;
  const active = t.status === "running" || t.status === "queued" || t.status === "parked";

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <Link to="/tasks" className="text-slate-500 hover:text-slate-800 dark:hover:text-slate-200" aria-label="Back to tasks">
          <ArrowLeft className="h-5 w-5" />
        </Link>
        <h1 className="text-xl font-semibold">Task #{t.id}</h1>
        <StatusBadge status={t.status} title={t.parkReason} />
        {active && (
          <button
            type="button"
            className={`${secondaryButtonClass} ml-auto text-red-700 dark:text-red-300`}
            onClick={() => cancel.mutate()}
            disabled={cancel.isPending || cancel.isSuccess}
            data-testid="cancel-task"
          >
            <Square className="h-4 w-4" /> {cancel.isPending || cancel.isSuccess ? "Cancelling…" : "Cancel"}
          </button>
        )}
      </div>
      {cancel.isError && <ErrorBox error={cancel.error} />}
      <Card title="Prompt">
        <p data-testid="task-prompt" className="whitespace-pre-wrap text-sm">
          {t.prompt}
        </p>
        {t.error && (
          <p className="mt-2 text-sm text-red-700 dark:text-red-300" data-testid="task-error">
            {t.error}
          </p>
        )}
        {t.resultText && !t.error && (
          <p className="mt-2 whitespace-pre-wrap text-sm text-slate-600 dark:text-slate-300" data-testid="task-result">
            {t.resultText}
          </p>
        )}
      </Card>
      <Card>
        <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
          <Figure label="Provider" testId="task-provider" value={t.provider ? `${t.provider}/${t.accessMode ?? "?"}` : "—"} />
          <Figure label="Duration" value={fmtDuration(t.durationS)} />
          <Figure label="Input tokens" testId="task-input-tokens" value={fmtTokens(t.inputTokens)} />
          <Figure label="Output tokens" testId="task-output-tokens" value={fmtTokens(t.outputTokens)} />
          <Figure label="Cache read / write" value={`${fmtTokens(t.cacheReadTokens)} / ${fmtTokens(t.cacheWriteTokens)}`} />
          <Figure label="Spent" value={fmtUsd(t.costUsd)} />
          <Figure label="API value" value={fmtUsd(t.apiCostUsd)} />
          <Figure label="Created" value={fmtTime(t.createdAt)} />
        </dl>
        {t.parks > 0 && t.parkReason && (
          <p className="mt-3 text-xs text-violet-700 dark:text-violet-300" data-testid="park-reason">
            {t.status === "parked"
              ? `Parked (${t.parks} of routing.quota.maxParks): ${t.parkReason}; looked at again ${fmtTime(t.parkedUntil)}`
              : `Parked ${t.parks} time${t.parks === 1 ? "" : "s"}; the last: ${t.parkReason}`}
          </p>
        )}
        {t.routingReason && (
          <p className="mt-3 text-xs text-slate-500 dark:text-slate-400" data-testid="routing-reason">
            Routing: {t.routingReason}
          </p>
        )}
      </Card>
      <Card title={`Attempts (${t.attempts.length})`}>
        <Attempts task={t} />
      </Card>
      <Card title={`Events${events.data ? ` (${events.data.length})` : ""}`}>
        {events.isPending ? (
          <Spinner />
        ) : events.isError ? (
          <ErrorBox error={events.error} onRetry={() => events.refetch()} />
        ) : events.data.length === 0 ? (
          <Empty>No events yet.</Empty>
        ) : (
          <EventLog events={events.data} />
        )}
      </Card>
    </div>
  );
}
