// The live connection: one WebSocket (/api/ws) feeding the TanStack Query cache.
// Events are appended to the cached event log of their task; task messages replace the
// cached task and refresh lists, stats and the quota ledger; provider messages refresh the
// providers and the ledger, and so does an agent's reading of a usage window (`quota`).
// It asks for batches (?batch=1): events waiting together on the server come as one
// `events` message, applied in order.
// On reconnect it resumes after the last event id it saw; on `resync` (the server dropped
// this client's queue because it fell behind) it refetches everything it shows.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { getToken, requireToken } from "./auth";
import { keys } from "./keys";
import type { LiveMessage, TaskDetail, TaskEvent } from "./types";

export type LiveState = "connecting" | "open" | "closed";

let state: LiveState = "connecting";
const listeners = new Set<() => void>();

function setState(next: LiveState): void {
  if (state !== next) {
    state = next;
    for (const listener of listeners) listener();
  }
}

export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}

/** Recent live events per task, merged into an event log fetched while they arrived. */
const recent = new Map<number, TaskEvent[]>();

export function recentEvents(taskId: number): TaskEvent[] {
  return recent.get(taskId) ?? [];
}

function applyEvent(client: QueryClient, event: TaskEvent): void {
  const buffer = recent.get(event.taskId) ?? [];
  buffer.push(event);
  if (buffer.length > 2000) buffer.splice(0, buffer.length - 2000);
  recent.set(event.taskId, buffer);
  if (recent.size > 50) recent.delete(recent.keys().next().value as number);
  client.setQueryData<TaskEvent[]>(keys.events(event.taskId), (old) => {
    if (!old) return old; // not loaded: fetched in full when opened
    const last = old.length ? old[old.length - 1].id : 0;
    return event.id > last ? [...old, event] : old;
  });
  if (event.kind === "attempt_started" || event.kind === "attempt_finished") {
    void client.invalidateQueries({ queryKey: keys.task(event.taskId) });
  }
}

/** An event of kind `quota` is an agent's reading of a usage window (the quota ledger). */
function isQuotaReading(event: TaskEvent): boolean {
  return event.kind === "quota";
}

/** Refreshes that many task messages in a row would repeat are batched. */
function debounced(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        fn();
      }, ms);
    }
  };
}

export function useLiveUpdates(): void {
  const client = useQueryClient();
  useEffect(() => {
    let socket: WebSocket | undefined;
    let lastEventId: number | undefined;
    let retry = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const refreshLists = debounced(() => {
      void client.invalidateQueries({ queryKey: [...keys.tasks, "list"] });
      void client.invalidateQueries({ queryKey: ["dashboard"] });
      void client.invalidateQueries({ queryKey: keys.quota }); // counted windows move too
      void client.invalidateQueries({ queryKey: keys.workers }); // what each pool runs
    }, 250);
    const refreshQuota = debounced(() => void client.invalidateQueries({ queryKey: keys.quota }), 250);

    const onMessage = (raw: MessageEvent<string>) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(raw.data) as LiveMessage;
      } catch {
        return;
      }
      if (message.type === "hello") {
        const id = Number(message.lastEventId);
        if (lastEventId === undefined && Number.isFinite(id)) lastEventId = id;
      } else if (message.type === "event") {
        const event = message.event;
        lastEventId = Math.max(lastEventId ?? 0, event.id);
        applyEvent(client, event);
        if (isQuotaReading(event)) refreshQuota();
      } else if (message.type === "events") {
        for (const event of message.events) {
          lastEventId = Math.max(lastEventId ?? 0, event.id);
          applyEvent(client, event);
          if (isQuotaReading(event)) refreshQuota();
        }
      } else if (message.type === "task") {
        const task = message.task;
        client.setQueryData<TaskDetail>(keys.task(task.id), (old) =>
          old ? { ...old, ...task } : old,
        );
        if (task.status !== "running" && task.status !== "queued") {
          void client.invalidateQueries({ queryKey: keys.task(task.id) });
        }
        refreshLists();
      } else if (message.type === "provider") {
        void client.invalidateQueries({ queryKey: keys.providers });
        refreshQuota();
      } else if (message.type === "resync") {
        // This client fell behind and its queue was dropped: the server replays the events
        // after `afterId`, but task and provider changes in between are lost: refetch them.
        void client.invalidateQueries();
      }
    };

    const connect = () => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const params = new URLSearchParams({ batch: "1" });
      if (lastEventId !== undefined) params.set("after", String(lastEventId));
      const token = getToken();
      if (token) params.set("token", token);
      const qs = params.toString();
      setState("connecting");
      socket = new WebSocket(`${proto}//${location.host}/api/ws${qs ? `?${qs}` : ""}`);
      socket.onopen = () => {
        retry = 0;
        setState("open");
        if (lastEventId !== undefined) {
          // Anything that changed while disconnected and is not an event: re-fetch.
          void client.invalidateQueries();
        }
      };
      socket.onmessage = onMessage;
      socket.onclose = (close) => {
        setState("closed");
        if (stopped) return;
        if (close.code === 4401) {
          requireToken(); // the token screen; the socket reconnects once a token is saved
          return;
        }
        const delay = Math.min(10_000, 500 * 2 ** retry++);
        timer = setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    };
  }, [client]);
}
