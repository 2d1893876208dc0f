import { z } from "zod";
import {
  BUILT_IN_ITEM_TYPES,
  INPUT_ITEM_SCHEMAS,
  INPUT_PART_SCHEMAS,
  ResponsesRequestSchema,
  TOOL_CHOICE_SCHEMAS,
  TOOL_SCHEMAS,
  type ResponseInputItem,
  type ResponsesRequest,
} from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";
import { plainZodMessage } from "../../validation-message.js";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

const ITEM_TYPES = new Set<string>([...Object.keys(INPUT_ITEM_SCHEMAS), ...BUILT_IN_ITEM_TYPES]);
const PART_TYPES = Object.keys(INPUT_PART_SCHEMAS);

const RestSchema = ResponsesRequestSchema.omit({ input: true });

/** A zod error under `prefix` (e.g. `["input", 2]`) as a 400 naming the parameter. */
function badRequest(error: z.ZodError, prefix: PropertyKey[] = []): BadRequestError {
  const issues = error.issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }));
  const { message, param } = plainZodMessage(new z.ZodError(issues));
  const first = issues[0];
  const code =
    first?.code !== "invalid_type"
      ? "invalid_value"
      : /received undefined$/.test(first.message)
        ? "missing_required_parameter"
        : "invalid_type";
  return new BadRequestError(message, param, code);
}

/** One input item, checked by its type so errors name `input[i]…` exactly. */
function parseItem(raw: unknown, i: number): ResponseInputItem {
  const at = `input[${i}]`;
  if (!isObject(raw)) {
    throw new BadRequestError(`${at} must be an object, not ${typeName(raw)}.`, at, "invalid_type");
  }
  const type = raw.type ?? ("role" in raw ? "message" : undefined);
  if (typeof type !== "string") {
    throw new BadRequestError(
      `${at}.type is missing: every input item needs a type (or a role, for a message).`,
      `${at}.type`,
      "missing_required_parameter",
    );
  }
  if (!ITEM_TYPES.has(type)) {
    throw new BadRequestError(
      `Invalid value for ${at}.type: '${type.slice(0, 64)}'. Supported types: ` +
        `${Object.keys(INPUT_ITEM_SCHEMAS).join(", ")} and built-in tool items.`,
      `${at}.type`,
      "invalid_value",
    );
  }
  if (type === "message" && Array.isArray(raw.content)) {
    raw.content.forEach((part: unknown, j) => {
      const partType = isObject(part) ? part.type : undefined;
      if (typeof partType === "string" && !PART_TYPES.includes(partType)) {
        throw new BadRequestError(
          `Invalid value for ${at}.content[${j}].type: '${partType.slice(0, 64)}'. ` +
            `Supported content types: ${PART_TYPES.join(", ")}.`,
          `${at}.content[${j}].type`,
          "invalid_value",
        );
      }
    });
  }
  const schema = Object.hasOwn(INPUT_ITEM_SCHEMAS, type)
    ? INPUT_ITEM_SCHEMAS[type as keyof typeof INPUT_ITEM_SCHEMAS]
    : null;
  if (!schema) return raw as ResponseInputItem; // a built-in tool item: kept as it came
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(parsed.error, ["input", i]);
  return parsed.data as ResponseInputItem;
}

/**
 * A value whose `type` picks its schema in `table` (other types are someone else's to judge),
 * checked alone so an error names its own field rather than the union's best guess.
 */
function checkByType(value: unknown, table: Record<string, z.ZodType>, path: PropertyKey[]): void {
  if (!isObject(value) || typeof value.type !== "string" || !Object.hasOwn(table, value.type)) {
    return;
  }
  const parsed = table[value.type]!.safeParse(value);
  if (!parsed.success) throw badRequest(parsed.error, path);
}

/**
 * Validates a `POST /v1/responses` body. Errors are 400s naming `param` as OpenAI does:
 * `model` (missing → `missing_required_parameter`), `input` (wrong type → `invalid_type`),
 * `input[i].type` for an unknown item type, `input[i].content[j].type` for an unknown part,
 * `conversation` / `prompt` (server-side state the gateway does not hold).
 */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (!isObject(body)) {
    throw new BadRequestError("The request body must be a JSON object.", null, "invalid_type");
  }
  if (body.model === undefined || body.model === null) {
    throw new BadRequestError(
      "Missing required parameter: 'model'.",
      "model",
      "missing_required_parameter",
    );
  }
  if (body.input === undefined || body.input === null) {
    throw new BadRequestError(
      "Missing required parameter: 'input' (a string, or an array of input items).",
      "input",
      "missing_required_parameter",
    );
  }
  if (typeof body.input !== "string" && !Array.isArray(body.input)) {
    throw new BadRequestError(
      `Invalid type for 'input': expected a string or an array of input items, got ${typeName(body.input)}.`,
      "input",
      "invalid_type",
    );
  }
  for (const field of ["conversation", "prompt"] as const) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new BadRequestError(
        `'${field}' is not supported by this gateway: send the whole input ` +
          "(or chain responses with previous_response_id).",
        field,
        "unsupported_parameter",
      );
    }
  }
  const input = typeof body.input === "string" ? body.input : body.input.map(parseItem);
  if (Array.isArray(body.tools)) {
    body.tools.forEach((t: unknown, i) => checkByType(t, TOOL_SCHEMAS, ["tools", i]));
  }
  checkByType(body.tool_choice, TOOL_CHOICE_SCHEMAS, ["tool_choice"]);
  const rest = RestSchema.safeParse(body);
  if (!rest.success) throw badRequest(rest.error);
  return { ...rest.data, input };
}
