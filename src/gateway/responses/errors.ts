import { BadRequestError, NotFoundError } from "../../errors.js";

/** 404 for a response that does not exist or belongs to another tenant: the same answer. */
export class ResponseNotFoundError extends NotFoundError {
  constructor(responseId: string) {
    super(`Response with id '${responseId.slice(0, 100)}' not found.`, "response_not_found");
  }
}

/** 400: `previous_response_id` names no response of this tenant (OpenAI's code and param). */
export class PreviousResponseNotFoundError extends BadRequestError {
  constructor(responseId: string) {
    super(
      `Previous response with id '${responseId.slice(0, 100)}' not found.`,
      "previous_response_id",
      "previous_response_not_found",
    );
  }
}

/** 400: only a background response can be cancelled (a synchronous one ends with its client). */
export class NotBackgroundError extends BadRequestError {
  constructor(responseId: string) {
    super(
      `Response '${responseId.slice(0, 100)}' was not created with background=true: only background responses can be cancelled.`,
      null,
      "not_background",
    );
  }
}
