import type { InputItemList, ResponseRecord } from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";

/** A page request of `GET /v1/responses/{id}/input_items`. */
export interface InputItemsQuery {
  /** 1–100, default 20. */
  limit: number;
  /** `desc` (default: newest first) or `asc`. */
  order: "asc" | "desc";
  /** An item id: the page starts after it, in `order`. */
  after?: string;
}

const one = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);

/** Reads the query string's `limit`, `order`, `after` (`include[]` is accepted and ignored). */
export function parseInputItemsQuery(query: Record<string, unknown>): InputItemsQuery {
  const limitText = one(query.limit);
  let limit = 20;
  if (limitText !== undefined && limitText !== "") {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new BadRequestError(
        `limit must be an integer from 1 to 100, not '${String(limitText).slice(0, 20)}'.`,
        "limit",
        "invalid_value",
      );
    }
  }
  const order = one(query.order) ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw new BadRequestError(
      `order must be 'asc' or 'desc', not '${String(order).slice(0, 20)}'.`,
      "order",
      "invalid_value",
    );
  }
  const after = one(query.after);
  const out: InputItemsQuery = { limit, order };
  if (typeof after === "string" && after !== "") out.after = after;
  return out;
}

/**
 * An input item as OpenAI lists it: a message's text given as a plain string becomes its one
 * content part (`input_text`, or `output_text` for an assistant's), as clients reading the list
 * expect parts.
 */
function asListed(item: ResponseRecord["input"][number]): ResponseRecord["input"][number] {
  const m = item as { type: string; role?: string; content?: unknown };
  if (m.type !== "message" || typeof m.content !== "string") return item;
  const type = m.role === "assistant" ? "output_text" : "input_text";
  return { ...item, content: [{ type, text: m.content }] };
}

/**
 * One page of a response's input items (each has an id: see the response record). `after`
 * names an item of this list; an id that is not in it is a 400 naming `after`.
 */
export function listInputItems(items: ResponseRecord["input"], q: InputItemsQuery): InputItemList {
  const ordered = q.order === "asc" ? [...items] : [...items].reverse();
  let start = 0;
  if (q.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === q.after);
    if (at < 0) {
      throw new BadRequestError(
        `after: no input item '${q.after.slice(0, 100)}' in this response.`,
        "after",
        "invalid_value",
      );
    }
    start = at + 1;
  }
  const data = ordered.slice(start, start + q.limit).map(asListed);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: start + data.length < ordered.length,
  };
}
