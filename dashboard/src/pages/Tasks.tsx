// The task list (filters in the URL, cursor pagination) and the "new task" form.
import { ChevronLeft, ChevronRight, Info, Plus, Search, X } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { useCreateTask, useProviders, useTasks, type TaskFilters } from "../api/queries";
import { ACCESS_MODES, HITL_POLICIES, TASK_STATUSES, type NewTask, type TaskSummary } from "../api/types";
import {
  Card,
  Empty,
  ErrorBox,
  PageHeader,
  Spinner,
  StatusBadge,
  buttonClass,
  inputClass,
  secondaryButtonClass,
} from "../components/ui";
import { fmtDuration, fmtTime, fmtUsd } from "../lib/format";

const PAGE_SIZE = 25;
/** A label for each sort order the API takes (the type requires one for every value). */
const SORTS: Record<NonNullable<TaskFilters["sort"]>, string> = {
  "-createdAt": "Newest first",
  createdAt: "Oldest first",
  "-costUsd": "Most expensive",
  "-durationS": "Longest",
};
const COST_HELP =
  "Spent: what the task cost in pay-per-token API charges (subscription and free modes add nothing). " +
  "API value: what its tokens would have cost at API prices, i.e. what a subscription saved.";

/** Where each prompt stops repeating the others: prompts that start with the same long text
 * (a template, a shared instruction) are shown from the first word that tells them apart. */
function distinguishingStarts(prompts: string[]): number[] {
  const flat = prompts.map((p) => p.replace(/\s+/g, " ").trim());
  const order = flat.map((_, i) => i).sort((a, b) => (flat[a] < flat[b] ? -1 : flat[a] > flat[b] ? 1 : 0));
  const shared = new Array<number>(flat.length).fill(0);
  const common = (a: string, b: string) => {
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  };
  // In sorted order the longest prefix a prompt shares with any other is with a neighbour.
  for (let k = 1; k < order.length; k++) {
    const n = common(flat[order[k - 1]], flat[order[k]]);
    shared[order[k - 1]] = Math.max(shared[order[k - 1]], n);
    shared[order[k]] = Math.max(shared[order[k]], n);
  }
  return flat.map((p, i) => {
    if (shared[i] < 24 || shared[i] >= p.length) return 0; // short or identical: all of it
    return p.lastIndexOf(" ", shared[i]) + 1; // from the start of the differing word
  });
}

function TaskTable({ tasks }: { tasks: TaskSummary[] }) {
  const starts = distinguishingStarts(tasks.map((t) => t.prompt));
  const cols = "xl:col-span-7 xl:grid xl:grid-cols-subgrid";
  return (
    <div className="xl:grid xl:grid-cols-[auto_auto_minmax(0,1fr)_auto_auto_auto_auto] xl:gap-x-3">
      <div
        data-testid="task-columns"
        className={`hidden border-b border-slate-200 px-1 pb-2 text-xs font-medium text-slate-500 dark:border-slate-800 dark:text-slate-400 ${cols}`}
      >
        <span>#</span>
        <span>Status</span>
        <span>Prompt</span>
        <span>Provider</span>
        <span className="text-right">Duration</span>
        <span className="text-right" title={COST_HELP}>
          Cost <Info className="inline h-3 w-3" aria-hidden />
        </span>
        <span className="text-right">Created</span>
      </div>
      <ul data-testid="task-list" className={`divide-y divide-slate-100 dark:divide-slate-800 ${cols}`}>
        {tasks.map((task, i) => {
          const flat = task.prompt.replace(/\s+/g, " ").trim();
          return (
            <li key={task.id} data-testid="task-row" data-task-id={task.id} className={cols}>
              <Link
                to={`/tasks/${task.id}`}
                className={`flex flex-wrap items-center gap-x-3 gap-y-1 px-1 py-2.5 hover:bg-slate-50 dark:hover:bg-slate-800/50 ${cols} xl:items-center`}
              >
                <span className="order-1 text-xs tabular-nums text-slate-500 xl:order-none">#{task.id}</span>
                <span className="order-2 xl:order-none">
                  <StatusBadge status={task.status} title={task.parkReason} />
                </span>
                <span
                  data-testid="task-prompt"
                  className="order-4 min-w-0 basis-full truncate text-sm xl:order-none xl:basis-auto"
                  title={task.prompt}
                >
                  {starts[i] > 0 && <span className="text-slate-400">…</span>}
                  {flat.slice(starts[i])}
                </span>
                <span
                  className="order-5 max-w-full truncate whitespace-nowrap text-xs text-slate-600 xl:order-none dark:text-slate-400"
                  data-testid="task-provider"
                  title={task.provider ? `${task.provider}${task.accessMode ? `/${task.accessMode}` : ""}` : undefined}
                >
                  {task.status === "parked" && task.parkReason ? (
                    <span data-testid="task-park-reason" title={task.parkReason}>
                      {task.parkReason}
                    </span>
                  ) : task.provider ? (
                    `${task.provider}${task.accessMode ? `/${task.accessMode}` : ""}`
                  ) : (
                    "—"
                  )}
                </span>
                <span className="order-5 whitespace-nowrap text-xs tabular-nums text-slate-600 xl:order-none xl:text-right xl:text-sm dark:text-slate-400">
                  {fmtDuration(task.durationS)}
                </span>
                <span
                  data-testid="task-cost"
                  className="order-5 whitespace-nowrap text-xs tabular-nums text-slate-600 xl:order-none xl:text-right dark:text-slate-400"
                  title={COST_HELP}
                >
                  spent {fmtUsd(task.costUsd)} <span className="text-slate-400">· API value {fmtUsd(task.apiCostUsd)}</span>
                </span>
                <span className="order-3 ml-auto whitespace-nowrap text-right text-xs text-slate-500 xl:order-none xl:ml-0">
                  {fmtTime(task.createdAt)}
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** "23:00" in this browser's time zone: "23:00+01:00", as `ado run --not-after` sends it. */
function withOffset(time: string): string {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${time}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function NewTaskForm({ onClose }: { onClose: () => void }) {
  const providers = useProviders();
  const create = useCreateTask();
  const navigate = useNavigate();
  const [prompt, setPrompt] = useState("");
  const [provider, setProvider] = useState("");
  const [accessMode, setAccessMode] = useState("");
  const [maxCost, setMaxCost] = useState("");
  const [hitlPolicy, setHitlPolicy] = useState("");
  const [cwd, setCwd] = useState("");
  const [notAfter, setNotAfter] = useState("");
  const error = create.error instanceof ApiError ? create.error : null;
  const fieldError = (name: string) =>
    error?.fieldMessage(name) ? (
      <span className="mt-1 block text-xs text-red-600 dark:text-red-400">{error.fieldMessage(name)}</span>
    ) : null;

  return (
    <Card title="New task" testId="new-task-form" className="mb-4">
      <form
        className="grid gap-3 md:grid-cols-2"
        onSubmit={(e) => {
          e.preventDefault();
          const task: NewTask = { prompt, yolo: false };
          if (provider) task.provider = provider;
          if (accessMode) task.accessMode = accessMode as NewTask["accessMode"];
          if (maxCost) task.maxCost = Number(maxCost);
          if (hitlPolicy) task.hitlPolicy = hitlPolicy as NewTask["hitlPolicy"];
          if (cwd) task.cwd = cwd;
          if (notAfter) task.notAfter = withOffset(notAfter);
          create.mutate(task, { onSuccess: (t) => navigate(`/tasks/${t.id}`) });
        }}
      >
        <label className="text-sm md:col-span-2">
          <span className="mb-1 block font-medium">Prompt</span>
          <textarea
            name="prompt"
            required
            rows={3}
            className={inputClass}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            placeholder="What should the agent do?"
          />
          {fieldError("prompt")}
        </label>
        <label className="text-sm">
          <span className="mb-1 block font-medium">Provider</span>
          <select name="provider" className={inputClass} value={provider} onChange={(e) => setProvider(e.target.value)}>
            <option value="">Any (routing decides)</option>
            {providers.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {fieldError("provider")}
        </label>
        <label className="text-sm">
          <span className="mb-1 block font-medium">Access mode</span>
          <select name="accessMode" className={inputClass} value={accessMode} onChange={(e) => setAccessMode(e.target.value)}>
            <option value="">Any</option>
            {ACCESS_MODES.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          {fieldError("accessMode")}
        </label>
        <label className="text-sm">
          <span className="mb-1 block font-medium">Max cost (USD)</span>
          <input
            name="maxCost"
            type="number"
            min="0"
            step="0.01"
            className={inputClass}
            value={maxCost}
            onChange={(e) => setMaxCost(e.target.value)}
          />
          {fieldError("maxCost")}
        </label>
        <label className="text-sm">
          <span className="mb-1 block font-medium">HITL policy</span>
          <select name="hitlPolicy" className={inputClass} value={hitlPolicy} onChange={(e) => setHitlPolicy(e.target.value)}>
            <option value="">Default</option>
            {HITL_POLICIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
          {fieldError("hitlPolicy")}
        </label>
        <label className="text-sm md:col-span-2">
          <span className="mb-1 block font-medium">Not after (HH:MM)</span>
          <input
            name="notAfter"
            type="time"
            className={inputClass}
            value={notAfter}
            onChange={(e) => setNotAfter(e.target.value)}
            title="When every agent is limited the task is parked until a reset; it never resumes after this time (yours)."
          />
          {fieldError("notAfter")}
        </label>
        <label className="text-sm md:col-span-2">
          <span className="mb-1 block font-medium">Working directory</span>
          <input
            name="cwd"
            className={inputClass}
            value={cwd}
            onChange={(e) => setCwd(e.target.value)}
            placeholder="the server's project directory"
          />
          {fieldError("cwd")}
        </label>
        {create.isError && <div className="md:col-span-2"><ErrorBox error={create.error} /></div>}
        <div className="flex gap-2 md:col-span-2">
          <button type="submit" className={buttonClass} disabled={create.isPending || !prompt.trim()}>
            {create.isPending ? "Submitting…" : "Start task"}
          </button>
          <button type="button" className={secondaryButtonClass} onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Card>
  );
}

export default function Tasks() {
  const [params, setParams] = useSearchParams();
  const [showForm, setShowForm] = useState(false);
  const [cursors, setCursors] = useState<string[]>([]);
  const [search, setSearch] = useState(params.get("q") ?? "");
  const providers = useProviders();
  const day = (key: string) => params.get(key) ?? "";
  const filters: TaskFilters = {
    status: (params.get("status") as TaskFilters["status"]) ?? undefined,
    provider: params.get("provider") ?? undefined,
    q: params.get("q") ?? undefined,
    // Whole days in the browser's time zone.
    since: day("since") ? new Date(`${day("since")}T00:00:00`).toISOString() : undefined,
    until: day("until") ? new Date(`${day("until")}T23:59:59.999`).toISOString() : undefined,
    sort: (params.get("sort") as TaskFilters["sort"]) ?? undefined,
    cursor: cursors[cursors.length - 1],
    limit: Number(params.get("limit")) || PAGE_SIZE,
  };
  const tasks = useTasks(filters);

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
    setCursors([]);
  };

  return (
    <div>
      <PageHeader title="Tasks">
        <button type="button" className={buttonClass} onClick={() => setShowForm((s) => !s)} data-testid="new-task-button">
          {showForm ? <X className="h-4 w-4" /> : <Plus className="h-4 w-4" />} New task
        </button>
      </PageHeader>
      {showForm && <NewTaskForm onClose={() => setShowForm(false)} />}
      <Card className="mb-4">
        <div className="grid grid-cols-2 gap-2 md:grid-cols-[2fr_1fr_1fr_auto_auto]">
          <form
            className="relative col-span-2 md:col-span-1"
            onSubmit={(e) => {
              e.preventDefault();
              setFilter("q", search.trim());
            }}
          >
            <Search className="pointer-events-none absolute left-2 top-2 h-4 w-4 text-slate-400" aria-hidden />
            <input
              aria-label="Search prompts"
              name="q"
              className={`${inputClass} pl-8`}
              placeholder="Search prompts"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </form>
          <select aria-label="Status" name="status" className={inputClass} value={filters.status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">All statuses</option>
            {TASK_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <select aria-label="Provider" name="provider" className={inputClass} value={filters.provider ?? ""} onChange={(e) => setFilter("provider", e.target.value)}>
            <option value="">All providers</option>
            {providers.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {(["since", "until"] as const).map((key) => (
            <label
              key={key}
              className="col-span-2 flex min-w-0 items-center gap-2 text-xs text-slate-500 md:col-span-1 dark:text-slate-400"
            >
              <span className="w-9 shrink-0 md:w-auto">{key === "since" ? "From" : "To"}</span>
              <input
                type="date"
                name={key}
                className={`${inputClass} min-w-0`}
                value={day(key)}
                onChange={(e) => setFilter(key, e.target.value)}
              />
            </label>
          ))}
        </div>
      </Card>
      <Card>
        {tasks.isPending ? (
          <Spinner />
        ) : tasks.isError ? (
          <ErrorBox error={tasks.error} onRetry={() => tasks.refetch()} />
        ) : tasks.data.items.length === 0 ? (
          <Empty>No tasks match.</Empty>
        ) : (
          <TaskTable tasks={tasks.data.items} />
        )}
        <div className="mt-3 flex items-center justify-between gap-2 text-sm">
          <select aria-label="Sort" name="sort" className={inputClass.replace("w-full", "w-auto")} value={filters.sort ?? ""} onChange={(e) => setFilter("sort", e.target.value)}>
            {Object.entries(SORTS).map(([value, label]) => (
              <option key={value} value={value === "-createdAt" ? "" : value}>
                {label}
              </option>
            ))}
          </select>
          <div className="flex gap-2">
            <button
              type="button"
              className={secondaryButtonClass}
              disabled={cursors.length === 0}
              onClick={() => setCursors((c) => c.slice(0, -1))}
              aria-label="Previous page"
            >
              <ChevronLeft className="h-4 w-4" /> Prev
            </button>
            <button
              type="button"
              className={secondaryButtonClass}
              disabled={!tasks.data?.nextCursor}
              onClick={() => tasks.data?.nextCursor && setCursors((c) => [...c, tasks.data.nextCursor!])}
              aria-label="Next page"
            >
              Next <ChevronRight className="h-4 w-4" />
            </button>
          </div>
        </div>
      </Card>
    </div>
  );
}
