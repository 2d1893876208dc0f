export * from "./subjects.js";
export * from "./envelope.js";
export * from "./openai.js";
export * from "./chat.js";
export * from "./catalog.js";
export * from "./handler.js";
export * from "./streams.js";
