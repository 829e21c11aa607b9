// A card per provider: enable toggle, the usage windows its agent reported (gauges with the
// projection), access modes (priority, enabled), limits with usage bars, cooldown countdowns,
// capability badges and today's usage.
import { ArrowDown, ArrowUp, CircleCheck, CircleX, Timer } from "lucide-react";
import { useClearCooldown, usePatchProvider, useProviders, useResetSetting } from "../api/queries";
import type { AccessMode, AccessModeName, Provider } from "../api/types";
import {
  Badge,
  Card,
  Empty,
  ErrorBox,
  PageHeader,
  Spinner,
  Toggle,
  cx,
} from "../components/ui";
import { fmtCountdown, fmtInt, fmtTime, fmtTokens, fmtUsd } from "../lib/format";
import { useNow } from "../lib/now";
import { ProviderQuota } from "../components/Quota";

function Cooldown({ provider, mode }: { provider: Provider; mode: AccessMode }) {
  const now = useNow();
  const clear = useClearCooldown();
  const ms = new Date(mode.cooldownUntil ?? 0).getTime();
  if (ms <= now) return null;
  return (
    <div data-testid="cooldown" className="mt-1 text-xs text-amber-700 dark:text-amber-300">
      <div className="flex items-start gap-1">
        <Timer className="mt-px h-3.5 w-3.5 shrink-0" aria-hidden />
        {/* A reason can be a long unbroken message: it wraps anywhere rather than widen the card. */}
        <p className="min-w-0 flex-1 [overflow-wrap:anywhere]">
          cooling down for {fmtCountdown(ms, now)}
          {mode.cooldownReason && (
            <span data-testid="cooldown-reason" className="text-slate-500 dark:text-slate-400">
              {" "}
              · {mode.cooldownReason}
            </span>
          )}
        </p>
        <button
          type="button"
          data-testid="clear-cooldown"
          className="shrink-0 rounded px-1.5 py-0.5 font-medium text-blue-700 hover:bg-blue-50 disabled:opacity-50 dark:text-blue-300 dark:hover:bg-blue-950"
          disabled={clear.isPending}
          aria-label={`Clear the ${mode.mode} cooldown of ${provider.name}`}
          title="Make this access mode available to routing again now"
          onClick={() => clear.mutate({ id: provider.id, accessMode: mode.mode as AccessModeName })}
        >
          {clear.isPending ? "Clearing…" : "Clear"}
        </button>
      </div>
      {clear.isError && (
        <div className="mt-1">
          <ErrorBox error={clear.error} />
        </div>
      )}
    </div>
  );
}

type Origin = "default" | "file" | "saved";

/** The switches of a provider saved here (over ado.config.yaml), with the file's values. */
function savedSwitches(provider: Provider): { key: string; file: unknown }[] {
  const p = provider as Provider & { origins?: Record<string, Origin>; fileValues?: Record<string, unknown> };
  return Object.entries(p.origins ?? {})
    .filter(([, origin]) => origin === "saved")
    .map(([key]) => ({ key, file: p.fileValues?.[key] }));
}

function switchLabel(key: string, file: unknown): string {
  const value = typeof file === "boolean" ? (file ? "on" : "off") : file == null ? "unset" : String(file);
  const name = key.replace(/^accessModes\.([^.]+)\.(\w+)$/, "$1 $2").replace(/^enabled$/, "provider");
  return `${name} ${value}`;
}

/** Switches saved through the dashboard shadow the file's: say which, and offer the file's. */
function SavedSwitches({ provider }: { provider: Provider }) {
  const reset = useResetSetting();
  const saved = savedSwitches(provider);
  if (saved.length === 0) return null;
  return (
    <div
      data-testid="switches-saved"
      className="mt-2 flex flex-wrap items-center gap-x-2 gap-y-0.5 text-xs text-violet-700 dark:text-violet-300"
    >
      <span className="min-w-0 [overflow-wrap:anywhere]">
        Switches saved here, over ado.config.yaml; without them:{" "}
        <span data-testid="file-switches">{saved.map((s) => switchLabel(s.key, s.file)).join(", ")}</span>
      </span>
      <button
        type="button"
        data-testid="reset-switches"
        className="font-medium underline disabled:opacity-50"
        disabled={reset.isPending}
        onClick={() => reset.mutate(`providers.${provider.id}`)}
      >
        Use the file's switches
      </button>
      {reset.isError && <ErrorBox error={reset.error} />}
    </div>
  );
}

function LimitBar({ limit }: { limit: AccessMode["limits"][number] }) {
  const pct = limit.limit > 0 ? Math.min(100, (limit.used / limit.limit) * 100) : 0;
  return (
    <div data-testid="limit" className="text-xs">
      <div className="flex justify-between gap-2">
        <span>
          {limit.name.replace(/([A-Z])/g, " $1").toLowerCase()} <span className="text-slate-500">/ {limit.window}</span>
        </span>
        <span className="tabular-nums">
          {fmtInt(limit.used)} / {fmtInt(limit.limit)}
        </span>
      </div>
      <div
        className="mt-0.5 h-1.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
        role="progressbar"
        aria-valuenow={Math.round(pct)}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-label={`${limit.name} used`}
      >
        <div
          className={cx("h-full rounded-full", pct >= 90 ? "bg-red-500" : pct >= 70 ? "bg-amber-500" : "bg-emerald-500")}
          style={{ width: `${pct}%` }}
        />
      </div>
      {limit.resetsAt && <p className="mt-0.5 text-slate-500">resets {fmtTime(limit.resetsAt)}</p>}
    </div>
  );
}

function Capabilities({ caps }: { caps: Record<string, unknown> }) {
  const flags = Object.entries(caps).filter(([, v]) => v === true).map(([k]) => k);
  const languages = Array.isArray(caps.languages) ? (caps.languages as string[]) : [];
  const context = caps.maxContextTokens;
  if (!flags.length && !languages.length && context == null) return null;
  return (
    <div className="flex flex-wrap gap-1" data-testid="capabilities">
      {flags.map((f) => (
        <Badge key={f} tone="blue">
          {f.replace(/([A-Z])/g, " $1").toLowerCase()}
        </Badge>
      ))}
      {languages.map((l) => (
        <Badge key={l}>{l}</Badge>
      ))}
      {typeof context === "number" && <Badge>{fmtTokens(context)} context</Badge>}
    </div>
  );
}

function ProviderCard({ provider }: { provider: Provider }) {
  const patch = usePatchProvider();
  const modes = [...provider.accessModes].sort((a, b) => a.priority - b.priority);
  const move = (index: number, delta: number) => {
    // Swap priorities with the neighbour (equal priorities: make them distinct).
    const a = modes[index];
    const b = modes[index + delta];
    if (!b) return;
    const pa = a.priority === b.priority ? b.priority + (delta > 0 ? 1 : -1) : b.priority;
    patch.mutate({
      id: provider.id,
      patch: {
        accessModes: [
          { mode: a.mode, priority: pa },
          { mode: b.mode, priority: a.priority },
        ],
      },
    });
  };
  return (
    <Card testId={`provider-${provider.id}`} className={cx("min-w-0", !provider.enabled && "opacity-80")}>
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="font-semibold">{provider.name}</h2>
          <p className="truncate text-xs text-slate-500 dark:text-slate-400">
            {provider.id}
            {provider.version && ` · ${provider.version}`}
          </p>
        </div>
        <Toggle
          testId="provider-enabled"
          label={`${provider.enabled ? "Disable" : "Enable"} ${provider.name}`}
          checked={provider.enabled}
          disabled={patch.isPending}
          onChange={(enabled) => patch.mutate({ id: provider.id, patch: { enabled } })}
        />
      </div>
      <div className="mt-2 flex flex-wrap gap-1.5 text-xs">
        {provider.installed ? (
          <Badge tone="green">
            <CircleCheck className="mr-1 h-3 w-3" /> installed
          </Badge>
        ) : (
          <Badge tone="red">
            <CircleX className="mr-1 h-3 w-3" /> not installed
          </Badge>
        )}
        {provider.loggedIn === true && <Badge tone="green">logged in</Badge>}
        {provider.loggedIn === false && <Badge tone="amber">not logged in</Badge>}
        <Badge tone={provider.enabled ? "blue" : "slate"}>{provider.enabled ? "enabled" : "disabled"}</Badge>
      </div>
      <SavedSwitches provider={provider} />
      <ProviderQuota providerId={provider.id} />
      {patch.isError && (
        <div className="mt-2">
          <ErrorBox error={patch.error} />
        </div>
      )}
      <h3 className="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">Access modes</h3>
      {modes.length === 0 ? (
        <p className="text-sm text-slate-500">None configured.</p>
      ) : (
        <ul className="mt-1 space-y-2">
          {modes.map((mode, i) => (
            <li
              key={mode.mode}
              data-testid="access-mode"
              data-mode={mode.mode}
              className="rounded-lg border border-slate-200 p-2 dark:border-slate-800"
            >
              <div className="flex items-center gap-2 text-sm">
                <span className="font-medium">{mode.mode}</span>
                <span className="text-xs text-slate-500" data-testid="priority">
                  priority {mode.priority}
                </span>
                <span className="ml-auto flex items-center gap-1">
                  <button
                    type="button"
                    aria-label={`Raise ${mode.mode} priority`}
                    className="rounded p-0.5 hover:bg-slate-100 disabled:opacity-30 dark:hover:bg-slate-800"
                    disabled={i === 0 || patch.isPending}
                    onClick={() => move(i, -1)}
                  >
                    <ArrowUp className="h-3.5 w-3.5" />
                  </button>
                  <button
                    type="button"
                    aria-label={`Lower ${mode.mode} priority`}
                    className="rounded p-0.5 hover:bg-slate-100 disabled:opacity-30 dark:hover:bg-slate-800"
                    disabled={i === modes.length - 1 || patch.isPending}
                    onClick={() => move(i, 1)}
                  >
                    <ArrowDown className="h-3.5 w-3.5" />
                  </button>
                  <Toggle
                    testId="mode-enabled"
                    label={`${mode.enabled ? "Disable" : "Enable"} ${mode.mode} mode`}
                    checked={mode.enabled}
                    disabled={patch.isPending}
                    onChange={(enabled) =>
                      patch.mutate({ id: provider.id, patch: { accessModes: [{ mode: mode.mode, enabled }] } })
                    }
                  />
                </span>
              </div>
              {mode.cooldownUntil && <Cooldown provider={provider} mode={mode} />}
              {mode.limits.length > 0 && (
                <div className="mt-2 space-y-1.5">
                  {mode.limits.map((limit) => (
                    <LimitBar key={`${limit.name}-${limit.window}`} limit={limit} />
                  ))}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <h3 className="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">Today</h3>
      <dl data-testid="usage-today" className="mt-1 grid grid-cols-4 gap-2 text-sm">
        <div>
          <dt className="text-xs text-slate-500">Tasks</dt>
          <dd className="tabular-nums" data-testid="usage-tasks">{fmtInt(provider.usageToday.tasks)}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Tokens</dt>
          <dd className="tabular-nums">
            {fmtTokens(provider.usageToday.inputTokens + provider.usageToday.outputTokens)}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Spent</dt>
          <dd className="tabular-nums">{fmtUsd(provider.usageToday.costUsd)}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">API value</dt>
          <dd className="tabular-nums">{fmtUsd(provider.usageToday.apiCostUsd)}</dd>
        </div>
      </dl>
      <div className="mt-3">
        <Capabilities caps={provider.capabilities} />
      </div>
    </Card>
  );
}

export default function Providers() {
  const providers = useProviders();
  return (
    <div>
      <PageHeader title="Providers" />
      {providers.isPending ? (
        <Spinner />
      ) : providers.isError ? (
        <ErrorBox error={providers.error} onRetry={() => providers.refetch()} />
      ) : providers.data.length === 0 ? (
        <Empty>No providers configured. Run <code>ado init</code>.</Empty>
      ) : (
        <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
          {[...providers.data]
            .sort((a, b) => Number(b.enabled) - Number(a.enabled) || Number(b.installed) - Number(a.installed))
            .map((p) => (
            <ProviderCard key={p.id} provider={p} />
          ))}
        </div>
      )}
    </div>
  );
}
