// A card per live worker pool (`ado serve`'s, `ado worker`) from the worker registry:
// host and pid, kind, queues, heartbeat age (ticking), the tasks it runs (links) and has
// finished. A pool silent for orchestration.workerTimeout is lost and leaves the list.
import { Cpu } from "lucide-react";
import { Link } from "react-router";
import { useWorkers } from "../api/queries";
import type { Worker } from "../api/types";
import { Badge, Card, Empty, ErrorBox, PageHeader, Spinner } from "../components/ui";
import { fmtDuration, fmtInt, fmtTime } from "../lib/format";
import { useNow } from "../lib/now";

function Heartbeat({ worker }: { worker: Worker }) {
  const now = useNow();
  const beat = new Date(worker.heartbeatAt).getTime();
  const expires = new Date(worker.expiresAt).getTime();
  const age = Math.max(0, (now - beat) / 1000);
  // Late: more than two thirds of its timeout gone (pools beat every third of it).
  const late = now > beat + ((expires - beat) * 2) / 3;
  return (
    <span data-testid="heartbeat" className={late ? "text-amber-700 dark:text-amber-300" : undefined}>
      {fmtDuration(age)} ago
    </span>
  );
}

function WorkerCard({ worker }: { worker: Worker }) {
  return (
    <Card
      testId="worker"
      title={
        // A host name can be long and unbroken: it wraps anywhere rather than widen the card.
        <span className="flex min-w-0 flex-wrap items-center gap-2 [overflow-wrap:anywhere]">
          <Cpu className="h-4 w-4 shrink-0" aria-hidden />
          <span data-testid="worker-host" className="min-w-0">
            {worker.hostname}:{worker.pid}
          </span>
          {worker.name && <span className="font-normal text-slate-500">{worker.name}</span>}
        </span>
      }
      action={
        <Badge testId="worker-kind" tone={worker.kind === "serve" ? "blue" : "green"}>
          {worker.kind === "serve" ? "ado serve" : "ado worker"}
        </Badge>
      }
    >
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4">
        <dt className="text-slate-500">Running</dt>
        <dd data-testid="worker-running">
          {worker.running.length}/{worker.concurrency}
          {worker.running.map((id) => (
            <Link key={id} to={`/tasks/${id}`} className="ml-1.5 text-blue-700 hover:underline dark:text-blue-300">
              #{id}
            </Link>
          ))}
        </dd>
        <dt className="text-slate-500">Tasks done</dt>
        <dd data-testid="worker-done">{fmtInt(worker.tasksDone)}</dd>
        <dt className="text-slate-500">Heartbeat</dt>
        <dd>
          <Heartbeat worker={worker} />
        </dd>
        <dt className="text-slate-500">Started</dt>
        <dd>{fmtTime(worker.startedAt)}</dd>
        <dt className="text-slate-500">Queues</dt>
        <dd data-testid="worker-queues">{worker.queues.length ? worker.queues.join(", ") : "all"}</dd>
        <dt className="text-slate-500">If lost</dt>
        <dd title="orchestration.onWorkerLost">{worker.onLost === "requeue" ? "re-queue its tasks" : "interrupt its tasks"}</dd>
      </dl>
    </Card>
  );
}

export default function Workers() {
  const workers = useWorkers();
  return (
    <div>
      <PageHeader title="Workers" />
      {workers.isPending ? (
        <Spinner />
      ) : workers.isError ? (
        <ErrorBox error={workers.error} onRetry={() => void workers.refetch()} />
      ) : workers.data.length === 0 ? (
        <Empty>No worker pool is running.</Empty>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          {workers.data.map((w) => (
            <WorkerCard key={`${w.hostname}:${w.pid}`} worker={w} />
          ))}
        </div>
      )}
    </div>
  );
}
