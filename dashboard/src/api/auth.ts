// The API token, asked for once (on the first 401) and kept in localStorage.
import { useSyncExternalStore } from "react";

const KEY = "ado.token";
let needsToken = false;
const listeners = new Set<() => void>();

function emit(): void {
  for (const listener of listeners) listener();
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  localStorage.setItem(KEY, token);
  needsToken = false;
  emit();
}

/** Called by the client on a 401: the token is missing or no longer valid. */
export function requireToken(): void {
  if (!needsToken) {
    needsToken = true;
    emit();
  }
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useNeedsToken(): boolean {
  return useSyncExternalStore(subscribe, () => needsToken);
}
