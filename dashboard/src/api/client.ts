// The typed API client: openapi-fetch over the generated `paths`, with the API token added
// to every request and the API's one error shape turned into ApiError.
import createClient, { type Middleware } from "openapi-fetch";
import { getToken, requireToken } from "./auth";
import type { paths } from "./schema";
import type { FieldError } from "./types";

/** The API's one error shape: `{error: {code, message, details}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[];

  constructor(status: number, code: string, message: string, details: FieldError[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The message for one field (`routing.strategy`), or undefined. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((d) => d.field === field || d.field?.endsWith(`.${field}`))?.message;
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) requireToken();
    return response;
  },
};

export const client = createClient<paths>({ baseUrl: location.origin });
client.use(auth);

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The response's data, or an ApiError (the server's message, or "not answering"). */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The ADO server is not answering. Is `ado serve` running?");
  }
  const { data, error, response } = result;
  if (!response.ok) {
    const body = (error as { error?: { code?: string; message?: string; details?: FieldError[] } })
      ?.error;
    throw new ApiError(
      response.status,
      body?.code ?? `http_${response.status}`,
      body?.message ?? `${response.url} failed with HTTP ${response.status}`,
      body?.details ?? [],
    );
  }
  return data as T;
}
