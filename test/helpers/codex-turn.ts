/** The body Codex 0.171.0 sent on a first turn (observed 2026-12-07; texts shortened). */
export const codexTurn = () => ({
  model: "sea",
  stream: true,
  input: [
    {
      type: "message",
      id: "msg_f1ac2b2f",
      role: "developer",
      content: [{ type: "input_text", text: "You are a coding agent running in the Codex CLI." }],
    },
    {
      type: "message",
      id: "msg_01a24f26-a",
      role: "user",
      content: [{ type: "input_text", text: "<environment_context>…</environment_context>" }],
    },
    {
      type: "message",
      id: "msg_01a24f26-b",
      role: "user",
      content: [{ type: "input_text", text: "say hi" }],
    },
  ],
  tools: [
    {
      type: "function",
      name: "exec_command",
      description: "Runs a command in a PTY.",
      strict: false,
      parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] },
    },
    {
      type: "namespace",
      name: "multi_agent_v1",
      description: "Tools for spawning and managing sub-agents.",
      tools: [
        {
          type: "function",
          name: "close_agent",
          description: "Close an agent.",
          strict: false,
          parameters: { type: "object", properties: { target: { type: "string" } } },
        },
      ],
    },
    { type: "web_search", external_web_access: false },
  ],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning: { summary: "auto" },
  store: false,
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "01a24f26-59bf-75c2-be5a-538174f944c6",
  client_metadata: { "x-codex-turn-metadata": "{}" },
});
