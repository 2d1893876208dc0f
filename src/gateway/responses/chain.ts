import type { ResponseOutputItem, ResponseRecord } from "../../../contracts/index.js";
import { PreviousResponseNotFoundError } from "./errors.js";
import type { BridgeItem } from "./items-to-messages.js";

/** One response of a `previous_response_id` chain: what it was given and what it answered. */
export interface ChainLink {
  record: ResponseRecord;
  output: readonly ResponseOutputItem[];
}

/** How long a chain may be: each link is read from the store. */
export const MAX_CHAIN_LENGTH = 100;

/**
 * Walks a chain back from `previousId` with `load` (null for a missing response, or one of
 * another tenant) and returns its links oldest first. A missing first link is a 400
 * `previous_response_not_found`; so is a broken link further back (the history is incomplete).
 */
export async function loadChain(
  previousId: string,
  load: (responseId: string) => Promise<ChainLink | null>,
): Promise<ChainLink[]> {
  const links: ChainLink[] = [];
  const seen = new Set<string>();
  for (let id: string | undefined = previousId; id !== undefined;) {
    if (seen.has(id) || links.length >= MAX_CHAIN_LENGTH) break;
    seen.add(id);
    const link = await load(id);
    if (!link) throw new PreviousResponseNotFoundError(id);
    links.push(link);
    id = link.record.previous_response_id;
  }
  return links.reverse();
}

/** A chain's items in order: each response's input, then its output. */
export function chainItems(links: readonly ChainLink[]): BridgeItem[] {
  return links.flatMap((l) => [...l.record.input, ...l.output] as BridgeItem[]);
}
