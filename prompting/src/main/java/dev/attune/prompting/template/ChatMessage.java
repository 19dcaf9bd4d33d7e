package dev.attune.prompting.template;

import java.util.Objects;
import java.util.Set;

/**
 * One turn of a dialogue.
 *
 * @param role    {@code "system"}, {@code "user"} or {@code "assistant"}
 * @param content the turn's text, as is (may be empty, never null)
 */
public record ChatMessage(String role, String content) {

    /** The roles a message may have. */
    public static final Set<String> ROLES = Set.of("system", "user", "assistant");

    public ChatMessage {
        if (role == null || !ROLES.contains(role)) {
            throw new IllegalArgumentException("chat message role must be one of system, user, assistant; got "
                    + (role == null ? "null" : "\"" + role + "\""));
        }
        Objects.requireNonNull(content, () -> role + " message content must not be null");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
