// TanStack Query hooks, one per API resource. The WebSocket (live.ts) keeps them current.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { keys } from "./keys";
import { recentEvents } from "./live";
import type { paths } from "./schema";
import type {
  AccessModeName,
  NewTask,
  Provider,
  ProviderPatch,
  SettingsPatch,
  TaskEvent,
} from "./types";

export { keys };

export type TaskFilters = NonNullable<paths["/api/tasks"]["get"]["parameters"]["query"]>;

export function useTasks(filters: TaskFilters) {
  return useQuery({
    queryKey: keys.taskList(filters),
    queryFn: ({ signal }) => unwrap(client.GET("/api/tasks", { params: { query: filters }, signal })),
    placeholderData: keepPreviousData,
  });
}

export function useTask(id: number) {
  return useQuery({
    queryKey: keys.task(id),
    queryFn: ({ signal }) =>
      unwrap(client.GET("/api/tasks/{task_id}", { params: { path: { task_id: id } }, signal })),
  });
}

/** Every event of a task, page by page; live events are appended by the WebSocket. */
export function useTaskEvents(id: number) {
  return useQuery({
    queryKey: keys.events(id),
    queryFn: async ({ signal }) => {
      const events: TaskEvent[] = [];
      let after = 0;
      for (;;) {
        const page = await unwrap(
          client.GET("/api/tasks/{task_id}/events", {
            params: { path: { task_id: id }, query: { after, limit: 1000 } },
            signal,
          }),
        );
        events.push(...page.items);
        if (page.nextAfter == null || page.items.length === 0) break;
        after = page.nextAfter;
      }
      // Live events that arrived while the pages were loading.
      const last = events.length ? events[events.length - 1].id : 0;
      events.push(...recentEvents(id).filter((e) => e.id > last));
      return events;
    },
  });
}

export function useCreateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (task: NewTask) => unwrap(client.POST("/api/tasks", { body: task })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.tasks }),
  });
}

export function useCancelTask(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(client.POST("/api/tasks/{task_id}/cancel", { params: { path: { task_id: id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.task(id) }),
  });
}

export function useStats() {
  return useQuery({
    queryKey: keys.stats,
    queryFn: ({ signal }) => unwrap(client.GET("/api/dashboard/stats", { signal })),
  });
}

export function useUsageHistory() {
  return useQuery({
    queryKey: keys.usageHistory,
    queryFn: ({ signal }) => unwrap(client.GET("/api/dashboard/usage-history", { signal })),
  });
}

export function useAlerts(limit = 5) {
  return useQuery({
    queryKey: [...keys.alerts, limit],
    queryFn: ({ signal }) =>
      unwrap(client.GET("/api/alerts", { params: { query: { limit } }, signal })),
  });
}

export function useProviders() {
  return useQuery({
    queryKey: keys.providers,
    queryFn: ({ signal }) => unwrap(client.GET("/api/providers", { signal })),
  });
}

/** The quota ledger. Live: refetched when an agent reports a window (an event of kind
 * `quota`), a provider or task changes (live.ts), and every minute as a backstop. */
export function useQuota() {
  return useQuery({
    queryKey: keys.quota,
    queryFn: ({ signal }) => unwrap(client.GET("/api/quota", { signal })),
    refetchInterval: 60_000,
  });
}

/** The worker registry. Pools beat every few seconds: refetched every 5 s, and when a task
 * changes (live.ts: what each pool runs). */
export function useWorkers() {
  return useQuery({
    queryKey: keys.workers,
    queryFn: ({ signal }) => unwrap(client.GET("/api/workers", { signal })),
    refetchInterval: 5_000,
  });
}

export function usePatchProvider() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: ProviderPatch }) =>
      unwrap(
        client.PATCH("/api/providers/{provider_id}", {
          params: { path: { provider_id: id } },
          body: patch,
        }),
      ),
    onSuccess: (provider) => {
      qc.setQueryData<Provider[]>(keys.providers, (old) =>
        old?.map((p) => (p.id === provider.id ? provider : p)),
      );
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.providers }),
  });
}

/** Ends a provider's cooldowns (of one access mode, or all): routing may pick it again. */
export function useClearCooldown() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, accessMode }: { id: string; accessMode?: AccessModeName }) =>
      unwrap(
        client.DELETE("/api/providers/{provider_id}/cooldown", {
          params: { path: { provider_id: id }, query: accessMode ? { accessMode } : {} },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.providers }),
  });
}

export function useSettings() {
  return useQuery({
    queryKey: keys.settings,
    queryFn: ({ signal }) => unwrap(client.GET("/api/settings", { signal })),
  });
}

export function usePatchSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (patch: SettingsPatch) => unwrap(client.PATCH("/api/settings", { body: patch })),
    onSuccess: (settings) => {
      qc.setQueryData(keys.settings, settings);
      void qc.invalidateQueries({ queryKey: keys.settings }); // origins may have changed
    },
  });
}

/** Removes one saved setting (a dotted key or a section): the file's value applies again. */
export function useResetSetting() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (key: string) =>
      unwrap(client.DELETE("/api/settings/{key}", { params: { path: { key } } })),
    onSuccess: (settings, key) => {
      qc.setQueryData(keys.settings, settings);
      // `providers.<id>`: a provider's saved switches.
      if (key.startsWith("providers")) void qc.invalidateQueries({ queryKey: keys.providers });
    },
  });
}

/** Removes every saved setting. */
export function useResetSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(client.DELETE("/api/settings")),
    onSuccess: (settings) => qc.setQueryData(keys.settings, settings),
  });
}
