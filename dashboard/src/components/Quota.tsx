// The quota ledger (GET /api/quota) as gauges: each usage window's % used against
// routing.quota's warnAt and stopAt, its reset countdown, the reading's source and age, and
// when at this pace it runs out. The Dashboard's Quota panel shows every provider id; a
// Providers card shows the windows its agent reported.
import { Gauge } from "lucide-react";
import { useQuota } from "../api/queries";
import type { Quota, QuotaReading } from "../api/types";
import { fmtClock, fmtCountdown, fmtPct, fmtSpan } from "../lib/format";
import { useNow } from "../lib/now";
import { Card, ErrorBox, Spinner, cx } from "./ui";

/** The browser's clock, and the seconds since the ledger was read (ages and countdowns
 * move on from the server's figures without trusting the two clocks to agree). */
type Clock = { now: number; elapsedS: number };

function useClock(fetchedAt: number): Clock {
  const now = useNow();
  return { now, elapsedS: Math.max(0, (now - fetchedAt) / 1000) };
}

function usedUp(w: QuotaReading): boolean {
  return w.status === "rejected" || (w.usedRatio ?? 0) >= 1;
}

/** The fraction shown: the reported one; a rejected window without a figure is full. */
function shownRatio(w: QuotaReading): number | null {
  if (w.usedRatio != null) return w.usedRatio;
  return w.status === "rejected" ? 1 : null;
}

function fillTone(w: QuotaReading, ratio: number, quota: Quota): string {
  if (!w.current) return "bg-slate-400 dark:bg-slate-600";
  if (w.stops || ratio >= quota.stopAt) return "bg-red-500";
  if (ratio >= quota.warnAt || w.status === "warning") return "bg-amber-500";
  return "bg-emerald-500";
}

function resetText(w: QuotaReading, clock: Clock): string {
  if (w.resetsAt == null) return "no reset time reported";
  const at = fmtClock(Date.parse(w.resetsAt), clock.now);
  if (!w.current) return `reset at ${at}, after this reading`;
  const left = (w.resetInS ?? 0) - clock.elapsedS;
  if (left <= 0) return `resetting now (${at})`;
  return `resets in ${fmtCountdown(clock.now + left * 1000, clock.now)} (${at})`;
}

function sourceText(w: QuotaReading): string {
  if (w.source === "agent") return "reported by the agent";
  const counts = w.used != null && w.limit != null ? `${w.used} of ${w.limit} ` : "";
  return `counted by ADO: ${counts}${w.limitName ?? ""}${w.accessMode ? ` (${w.accessMode})` : ""}`;
}

function ageText(w: QuotaReading, clock: Clock): string {
  if (w.source === "counted") return "as of now";
  return `read ${fmtCountdown((w.ageS + clock.elapsedS) * 1000, 0)} ago`;
}

/** "At this pace the 5-hour window runs out at 13:40, 25 min before it resets." */
function projectionText(w: QuotaReading, clock: Clock): string | null {
  if (!w.current || w.runsOutAt == null || usedUp(w)) return null;
  const out = Date.parse(w.runsOutAt);
  let text = `At this pace the ${w.label} runs out at ${fmtClock(out, clock.now)}`;
  if (w.resetsAt != null) text += `, ${fmtSpan((Date.parse(w.resetsAt) - out) / 1000)} before it resets`;
  return `${text}.`;
}

function stopText(w: QuotaReading, quota: Quota): string | null {
  if (!w.current || !w.stops) return null;
  if (w.source === "counted") return "At its limit: this access mode takes no new task until it resets.";
  if (w.status === "rejected") return "Rejected by the provider: no new task until it resets.";
  return `At or above the stop threshold (${fmtPct(quota.stopAt)}): no new task until it resets.`;
}

function staleText(w: QuotaReading): string | null {
  if (w.current) return null;
  return w.resetsAt != null || w.windowMinutes
    ? "The window has reset since this reading: its use is unknown until the agent reports it again."
    : "Neither a reset time nor the window's length was reported: routing does not count this reading.";
}

function Marker({ at, tone, label }: { at: number; tone: string; label: string }) {
  return (
    <span
      aria-hidden
      title={label}
      data-testid="quota-mark"
      data-at={at}
      className={cx("absolute -top-0.5 -bottom-0.5 w-0.5 rounded", tone)}
      style={{ left: `calc(${Math.min(100, at * 100)}% - 1px)` }}
    />
  );
}

/** One window: its bar with the warn and stop marks, and what is known of it. */
export function QuotaGauge({
  reading: w,
  quota,
  clock,
}: {
  reading: QuotaReading;
  quota: Quota;
  clock: Clock;
}) {
  const ratio = shownRatio(w);
  const pct = ratio == null ? null : Math.round(ratio * 100);
  const name = w.limitName ? `${w.label} (${w.limitName})` : w.label;
  const thresholds = `warns at ${fmtPct(quota.warnAt)}, stops new tasks at ${fmtPct(quota.stopAt)}`;
  const projection = projectionText(w, clock);
  const stop = stopText(w, quota);
  const stale = staleText(w);
  return (
    <li
      data-testid="quota-window"
      data-provider={w.provider}
      data-window={w.window}
      data-source={w.source}
      data-status={w.status}
      data-current={String(w.current)}
      className="min-w-0 text-xs"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-x-2">
        <span className="font-medium text-slate-700 dark:text-slate-200">{name}</span>
        <span data-testid="quota-used" className="tabular-nums">
          {pct == null ? "use not reported" : `${pct} % used`}
          {w.status !== "allowed" && (
            <span
              data-testid="quota-status"
              className={cx(
                "font-medium",
                w.status === "rejected" ? "text-red-700 dark:text-red-300" : "text-amber-700 dark:text-amber-300",
              )}
            >
              {" "}
              · {w.status}
            </span>
          )}
        </span>
      </div>
      <div
        role="progressbar"
        aria-label={`${w.provider} ${name} used`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct == null ? undefined : Math.min(100, pct)}
        aria-valuetext={`${pct == null ? "use not reported" : `${pct} % used`}; ${thresholds}`}
        className="relative mt-1 h-2"
      >
        <div className="h-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800">
          {ratio != null && (
            <div
              data-testid="quota-fill"
              className={cx("h-full rounded-full", fillTone(w, ratio, quota))}
              style={{ width: `${Math.min(100, Math.max(0, ratio * 100))}%` }}
            />
          )}
        </div>
        <Marker at={quota.warnAt} tone="bg-amber-600 dark:bg-amber-400" label={`warn at ${fmtPct(quota.warnAt)}`} />
        <Marker at={quota.stopAt} tone="bg-red-700 dark:bg-red-400" label={`stop at ${fmtPct(quota.stopAt)}`} />
      </div>
      <p className="mt-1 flex flex-wrap gap-x-2 text-slate-500 dark:text-slate-400">
        <span data-testid="quota-reset">{resetText(w, clock)}</span>
        <span aria-hidden>·</span>
        <span data-testid="quota-source">{sourceText(w)}</span>
        <span aria-hidden>·</span>
        <span data-testid="quota-age" className={cx(!w.current && "text-amber-700 dark:text-amber-300")}>
          {ageText(w, clock)}
        </span>
      </p>
      {stale && (
        <p data-testid="quota-stale" className="mt-0.5 text-amber-700 dark:text-amber-300">
          {stale}
        </p>
      )}
      {stop && (
        <p data-testid="quota-stop" className="mt-0.5 font-medium text-red-700 dark:text-red-300">
          {stop}
        </p>
      )}
      {projection && (
        <p data-testid="quota-projection" className="mt-0.5 text-amber-800 dark:text-amber-200">
          {projection}
        </p>
      )}
    </li>
  );
}

/** The thresholds the bars are marked with (routing.quota). */
function Thresholds({ quota }: { quota: Quota }) {
  return (
    <p
      data-testid="quota-thresholds"
      className="flex flex-wrap items-center gap-x-3 text-xs text-slate-500 dark:text-slate-400"
    >
      <span className="inline-flex items-center gap-1">
        <span aria-hidden className="inline-block h-3 w-0.5 rounded bg-amber-600 dark:bg-amber-400" />
        warn at {fmtPct(quota.warnAt)}
      </span>
      <span className="inline-flex items-center gap-1">
        <span aria-hidden className="inline-block h-3 w-0.5 rounded bg-red-700 dark:bg-red-400" />
        stop at {fmtPct(quota.stopAt)}
      </span>
    </p>
  );
}

function byProvider(windows: QuotaReading[]): [string, QuotaReading[]][] {
  const groups = new Map<string, QuotaReading[]>();
  for (const w of windows) {
    const group = groups.get(w.provider);
    if (group) group.push(w);
    else groups.set(w.provider, [w]);
  }
  return [...groups.entries()];
}

/** The Dashboard's Quota panel: every provider id (account) with its windows. */
export function QuotaPanel() {
  const quota = useQuota();
  const clock = useClock(quota.dataUpdatedAt);
  return (
    <Card
      title="Quota"
      testId="quota-panel"
      action={
        quota.data ? <Thresholds quota={quota.data} /> : <Gauge className="h-4 w-4 text-slate-400" aria-hidden />
      }
    >
      {quota.isPending ? (
        <Spinner />
      ) : quota.isError ? (
        <ErrorBox error={quota.error} onRetry={() => quota.refetch()} />
      ) : quota.data.windows.length === 0 ? (
        <div data-testid="quota-empty" className="p-4 text-center text-sm text-slate-500 dark:text-slate-400">
          <p>No usage windows known yet.</p>
          <p className="mt-1 text-xs">
            Each provider&apos;s usage windows appear here as bars: claude&apos;s 5-hour and weekly windows and
            codex&apos;s primary and secondary ones once a run reports them (claude with a subscription login),
            and every <code>rateLimits</code> entry of ado.config.yaml counted against ADO&apos;s own usage.
            With each: the % used against the warn and stop thresholds (<code>routing.quota</code>), when it
            resets, and when at this pace it runs out. <code>ado quota</code> shows the same.
          </p>
        </div>
      ) : (
        <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
          {byProvider(quota.data.windows).map(([provider, windows]) => (
            <section
              key={provider}
              data-testid="quota-provider"
              data-provider={provider}
              aria-label={`${provider} usage windows`}
              className="min-w-0"
            >
              <h3 className="mb-1 text-sm font-semibold [overflow-wrap:anywhere]">{provider}</h3>
              <ul className="space-y-3">
                {windows.map((w) => (
                  <QuotaGauge
                    key={`${w.window}-${w.source}-${w.limitName ?? ""}-${w.accessMode ?? ""}`}
                    reading={w}
                    quota={quota.data}
                    clock={clock}
                  />
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </Card>
  );
}

/** A Providers card's gauges: the windows its agent reported (its configured rateLimits
 * show under each access mode already). Nothing when it reported none. */
export function ProviderQuota({ providerId }: { providerId: string }) {
  const quota = useQuota();
  const clock = useClock(quota.dataUpdatedAt);
  const windows =
    quota.data?.windows.filter((w) => w.provider === providerId && w.source === "agent") ?? [];
  if (!quota.data || windows.length === 0) return null;
  return (
    <section data-testid="provider-quota" aria-label={`${providerId} usage windows`}>
      <div className="mt-3 flex flex-wrap items-center justify-between gap-x-2">
        <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Usage windows</h3>
        <Thresholds quota={quota.data} />
      </div>
      <ul className="mt-1 space-y-3">
        {windows.map((w) => (
          <QuotaGauge key={w.window} reading={w} quota={quota.data} clock={clock} />
        ))}
      </ul>
    </section>
  );
}
