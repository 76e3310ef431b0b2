/** Chat templates and assistant masks (see template.ts for where this layer sits). */
export {
  CHAT_ROLES,
  type ChatMessage,
  type ChatTemplate,
  ChatTemplateError,
  type RenderOptions,
  checkConversation,
  findChatTemplate,
  loadChatTemplate,
  renderChat,
} from "./template.js";
export {
  type RenderedChat,
  type Span,
  type TokenizedChat,
  renderWithAssistantSpans,
  tokenMaskFromSpans,
  tokenizeChat,
} from "./masks.js";
