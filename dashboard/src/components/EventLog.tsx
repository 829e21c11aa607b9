// A task's event log: text, tool calls paired with their results, errors, failovers.
// Event data is EventData (camelCase: toolName, toolInput, isError...), with details
// (attempt number, outcome...) under a nested `data`. toolInput is the agent's own, verbatim.
import {
  AlertTriangle,
  ArrowRightLeft,
  CheckCircle2,
  ChevronRight,
  Flag,
  Info,
  MessageSquare,
  Play,
  Timer,
  Wrench,
  XCircle,
} from "lucide-react";
import { memo, useMemo, type ReactNode } from "react";
import type { TaskEvent } from "../api/types";
import { fmtTime, fmtTokens } from "../lib/format";
import { cx, outcomeBadgeTone } from "./ui";

type Data = Record<string, unknown>;

/** A detail of the event (its nested `data`: number, provider, outcome...). */
function detail(event: TaskEvent, key: string): unknown {
  const nested = event.data.data;
  return nested && typeof nested === "object" ? nested[key] : undefined;
}

function str(value: unknown): string {
  if (value == null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function toolSummary(input: unknown): string {
  if (!input || typeof input !== "object") return "";
  const inp = input as Data;
  for (const key of ["file_path", "filePath", "path", "command", "cmd", "pattern", "url"]) {
    const v = inp[key];
    if (typeof v === "string") return v;
    if (Array.isArray(v)) return v.join(" ");
  }
  return JSON.stringify(inp);
}

type Tone = "slate" | "blue" | "red" | "amber" | "green" | "violet";

function Row({
  icon,
  tone = "slate",
  time,
  children,
  kind,
  mark,
}: {
  icon: ReactNode;
  tone?: Tone;
  time: string;
  children: ReactNode;
  kind: string;
  /** ok or error, for the final result: what the icon says, for tests and styling. */
  mark?: "ok" | "error";
}) {
  const tones = {
    slate: "text-slate-400",
    blue: "text-blue-500",
    red: "text-red-500",
    amber: "text-amber-500",
    green: "text-emerald-500",
    violet: "text-violet-500",
  };
  return (
    <li data-testid="event" data-kind={kind} data-mark={mark} className="flex gap-2 py-1.5 text-sm">
      <span className={cx("mt-0.5 shrink-0", tones[tone])}>{icon}</span>
      <div className="min-w-0 flex-1 break-words">{children}</div>
      <time className="hidden shrink-0 text-xs tabular-nums text-slate-400 sm:block">{fmtTime(time)}</time>
    </li>
  );
}

const icon = "h-4 w-4";

function statusTone(status: string): Tone {
  return status === "succeeded" ? "green" : status === "failed" ? "red" : status === "running" ? "blue" : "amber";
}


/** One row; memoized so that a new event re-renders only itself. */
const EventItem = memo(function EventItem({
  e,
  result,
  paired,
}: {
  e: TaskEvent;
  result?: TaskEvent;
  paired: boolean;
}) {
  const text = str(e.data.text);
  switch (e.kind) {
    case "text":
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} icon={<MessageSquare className={icon} />}>
          <p className="whitespace-pre-wrap">{text}</p>
        </Row>
      );
    case "tool_call": {
      const isError = result ? Boolean(result.data.isError) : false;
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="violet" icon={<Wrench className={icon} />}>
          <details>
            <summary className="cursor-pointer list-none">
              <ChevronRight className="mr-1 inline h-3 w-3" aria-hidden />
              <span className="font-mono font-medium">{str(e.data.toolName)}</span>{" "}
              <span className="font-mono text-xs text-slate-500">{toolSummary(e.data.toolInput)}</span>
              {result && (
                <span className={cx("ml-2 text-xs", isError ? "text-red-500" : "text-emerald-600")}>
                  {isError ? "error" : "done"}
                </span>
              )}
            </summary>
            <pre className="mt-1 max-h-64 overflow-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">
              {JSON.stringify(e.data.toolInput ?? {}, null, 2)}
            </pre>
            {result && (
              <pre
                data-testid="tool-result"
                className={cx(
                  "mt-1 max-h-64 overflow-auto whitespace-pre-wrap rounded p-2 text-xs",
                  isError ? "bg-red-50 dark:bg-red-950" : "bg-slate-100 dark:bg-slate-800",
                )}
              >
                {str(result.data.text) || "(no output)"}
              </pre>
            )}
          </details>
        </Row>
      );
    }
    case "tool_result":
      // Shown with its call; a result without a call stands alone.
      if (paired) return null;
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="violet" icon={<Wrench className={icon} />}>
          <pre className="whitespace-pre-wrap text-xs">{text}</pre>
        </Row>
      );
    case "error":
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="red" icon={<AlertTriangle className={icon} />}>
          <span className="text-red-700 dark:text-red-300">{text || "error"}</span>
        </Row>
      );
    case "rate_limit":
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="amber" icon={<Timer className={icon} />}>
          rate limited{e.data.resetAt ? ` — resets ${fmtTime(e.data.resetAt)}` : ""}
          {text && <span className="text-slate-500"> · {text}</span>}
        </Row>
      );
    case "failover":
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="amber" icon={<ArrowRightLeft className={icon} />}>
          <span className="font-medium">failover:</span> {text}
        </Row>
      );
    case "handoff": {
      // What this attempt was told of the earlier ones: the whole prompt is the event's text.
      const files = (detail(e, "files") as unknown[] | undefined) ?? [];
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="violet" icon={<ArrowRightLeft className={icon} />}>
          <details>
            <summary className="cursor-pointer list-none">
              <ChevronRight className="mr-1 inline h-3 w-3" aria-hidden />
              <span className="font-medium">handoff:</span> told what attempt{" "}
              {((detail(e, "attempts") as unknown[] | undefined) ?? []).map(str).join(", ")} did
              {files.length > 0 && (
                <span className="text-xs text-slate-500"> · {files.map((f) => str(f).split("/").pop()).join(", ")}</span>
              )}
            </summary>
            <pre data-testid="handoff-prompt" className="mt-1 max-h-96 overflow-auto whitespace-pre-wrap rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">
              {text}
            </pre>
          </details>
        </Row>
      );
    }
    case "attempt_started":
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone="blue" icon={<Play className={icon} />}>
          <span className="font-medium">
            attempt {str(detail(e, "number"))}: {str(detail(e, "provider"))}/{str(detail(e, "accessMode"))}
          </span>
          {text && <span className="block text-xs text-slate-500">{text}</span>}
        </Row>
      );
    case "result": {
      // The agent's final word: an error when it gave up (isError), not a success mark.
      const isError = Boolean(e.data.isError);
      return (
        <Row
          key={e.id}
          kind={e.kind}
          time={e.createdAt}
          tone={isError ? "red" : "green"}
          icon={isError ? <XCircle className={icon} aria-label="error" /> : <CheckCircle2 className={icon} aria-label="done" />}
          mark={isError ? "error" : "ok"}
        >
          <p className={cx("whitespace-pre-wrap", isError && "text-red-700 dark:text-red-300")}>
            {text || (isError ? "the agent reported an error" : "result")}
          </p>
        </Row>
      );
    }
    case "attempt_finished": {
      const outcome = str(detail(e, "outcome"));
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone={outcomeBadgeTone(outcome)} icon={<Flag className={icon} />}>
          attempt finished: <span className="font-medium">{outcome}</span>
          {text && <span className="text-slate-500"> · {text}</span>}
        </Row>
      );
    }
    case "task_finished": {
      const status = str(detail(e, "status"));
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} tone={statusTone(status)} icon={<Flag className={icon} />}>
          task {status}
          {text && <span className="text-slate-500"> · {text}</span>}
        </Row>
      );
    }
    case "usage": {
      const usage = e.data.usage;
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} icon={<Info className={icon} />}>
          <span className="text-xs text-slate-500">
            usage: {fmtTokens(usage?.inputTokens ?? 0)} in /{" "}
            {fmtTokens(usage?.outputTokens ?? 0)} out
            {usage?.model ? ` · ${usage.model}` : ""}
          </span>
        </Row>
      );
    }
    case "session_started":
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} icon={<Info className={icon} />}>
          <span className="text-xs text-slate-500">session {str(e.data.sessionId)}</span>
        </Row>
      );
    default:
      return (
        <Row key={e.id} kind={e.kind} time={e.createdAt} icon={<Info className={icon} />}>
          <span className="text-xs text-slate-500">
            {e.kind}
            {text ? `: ${text}` : ""}
          </span>
        </Row>
      );
  }
});

export function EventLog({ events }: { events: TaskEvent[] }) {
  // Tool results are shown under their call.
  const results = useMemo(() => {
    const map = new Map<string, TaskEvent>();
    for (const e of events) {
      if (e.kind === "tool_result") {
        const id = str(e.data.toolId);
        if (id) map.set(id, e);
      }
    }
    return map;
  }, [events]);
  const calls = useMemo(
    () => new Set(events.filter((e) => e.kind === "tool_call").map((e) => str(e.data.toolId))),
    [events],
  );

  return (
    <ol data-testid="event-log" className="divide-y divide-slate-100 dark:divide-slate-800">
      {events.map((e) => (
        <EventItem
          key={e.id}
          e={e}
          result={e.kind === "tool_call" ? results.get(str(e.data.toolId)) : undefined}
          paired={e.kind === "tool_result" && calls.has(str(e.data.toolId))}
        />
      ))}
    </ol>
  );
}
