// The task list (filters in the URL, cursor pagination) and the "new task" form.
import { ChevronLeft, ChevronRight, Plus, Search, X } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { useCreateTask, useProviders, useTasks, type TaskFilters } from "../api/queries";
import type { NewTask } from "../api/types";
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

const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "interrupted"];
const PAGE_SIZE = 25;

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
            <option value="subscription">subscription</option>
            <option value="api">api</option>
            <option value="free">free</option>
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
            {["autonomous", "review-edits", "approve-steps", "manual"].map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
          {fieldError("hitlPolicy")}
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
        <div className="grid grid-cols-2 gap-2 md:grid-cols-6">
          <form
            className="relative col-span-2"
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
            {STATUSES.map((s) => (
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
          <input aria-label="Since" type="date" name="since" className={inputClass} value={day("since")} onChange={(e) => setFilter("since", e.target.value)} />
          <input aria-label="Until" type="date" name="until" className={inputClass} value={day("until")} onChange={(e) => setFilter("until", e.target.value)} />
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
          <ul data-testid="task-list" className="divide-y divide-slate-100 dark:divide-slate-800">
            {tasks.data.items.map((task) => (
              <li key={task.id} data-testid="task-row" data-task-id={task.id}>
                <Link
                  to={`/tasks/${task.id}`}
                  className="grid grid-cols-[auto_1fr] items-center gap-x-3 gap-y-1 px-1 py-2.5 hover:bg-slate-50 md:grid-cols-[4rem_7rem_1fr_9rem_5rem_5rem_7rem] dark:hover:bg-slate-800/50"
                >
                  <span className="text-xs tabular-nums text-slate-500">#{task.id}</span>
                  <span className="md:order-none">
                    <StatusBadge status={task.status} />
                  </span>
                  <span className="col-span-2 truncate text-sm md:col-span-1" title={task.prompt}>
                    {task.prompt}
                  </span>
                  <span className="text-xs text-slate-600 dark:text-slate-400" data-testid="task-provider">
                    {task.provider ? `${task.provider}${task.accessMode ? `/${task.accessMode}` : ""}` : "—"}
                  </span>
                  <span className="text-right text-xs tabular-nums text-slate-600 md:text-sm dark:text-slate-400">
                    {fmtDuration(task.durationS)}
                  </span>
                  <span className="text-xs tabular-nums text-slate-600 md:text-right md:text-sm dark:text-slate-400" title="spent (API value)">
                    {fmtUsd(task.costUsd)}
                    <span className="text-slate-400"> ({fmtUsd(task.apiCostUsd)})</span>
                  </span>
                  <span className="text-right text-xs text-slate-500">{fmtTime(task.createdAt)}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
        <div className="mt-3 flex items-center justify-between gap-2 text-sm">
          <select aria-label="Sort" name="sort" className={`${inputClass} w-auto`} value={filters.sort ?? ""} onChange={(e) => setFilter("sort", e.target.value)}>
            <option value="">Newest first</option>
            <option value="createdAt">Oldest first</option>
            <option value="-costUsd">Most expensive</option>
            <option value="-durationS">Longest</option>
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
