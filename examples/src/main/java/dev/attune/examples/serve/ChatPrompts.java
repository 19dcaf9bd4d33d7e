package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.prompting.template.ChatMessage;
import dev.attune.prompting.template.ChatTemplate;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place the server meets the prompting module's chat template: OpenAI {@code messages} in, the prompt text
 * and the stop strings that end the assistant's turn out.
 */
final class ChatPrompts {
    private final ChatTemplate template;

    ChatPrompts(ChatTemplate template) {
        this.template = template == null ? ChatTemplate.simple() : template;
    }

    /** The rendered prompt (ending with the assistant's prefix) for a {@code messages} array. */
    String render(JsonNode messages) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.badRequest("messages", "'messages' must be a non-empty array of {role, content} objects");
        }
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) {
                throw RequestFields.wrongType(at, "an object with 'role' and 'content'", m);
            }
            for (var it = m.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("role") && !f.equals("content") && !f.equals("name")) {
                    throw ApiError.badRequest(at + "." + f, "unknown field '" + f + "' in " + at
                            + "; a message has 'role', 'content' and optionally 'name'");
                }
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) {
                throw ApiError.badRequest(at + ".role", at + ".role must be one of " + ChatMessage.ROLES);
            }
            if (!ChatMessage.ROLES.contains(role.asText())) {
                throw ApiError.badRequest(at + ".role", at + ".role must be one of " + ChatMessage.ROLES + ", got '"
                        + role.asText() + "'");
            }
            list.add(new ChatMessage(role.asText(), content(m.get("content"), at + ".content")));
        }
        try {
            return template.render(list, true);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("messages", e.getMessage());
        }
    }

    /** Strings that end the assistant's turn. */
    List<String> stopStrings() {
        return template.stopStrings();
    }

    /** A string, or OpenAI's array of {@code {"type": "text", "text": ...}} parts joined. */
    private static String content(JsonNode c, String at) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.badRequest(at + "[" + i + "]", "only text parts {\"type\": \"text\", \"text\":"
                            + " ...} are supported");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.badRequest(at, at + " must be a string or an array of text parts");
    }
}
