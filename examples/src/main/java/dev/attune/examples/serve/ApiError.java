package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses: the HTTP status and an OpenAI-style error body,
 * {@code {"error": {"message", "type", "param", "code"}}}, whose {@code param} names the offending field.
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiError badRequest(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, "authentication_error", null, "invalid_api_key", message);
    }

    static ApiError notFound(String param, String code, String message) {
        return new ApiError(404, "invalid_request_error", param, code, message);
    }

    /** 404 unless {@code requested} (a request's {@code model}, or null when it names none) is the one served. */
    static void requireServed(String requested, ServerConfig config) {
        if (requested != null && !requested.equals(config.modelName())) {
            throw notFound("model", "model_not_found", "no model '" + requested + "'; this server serves '"
                    + config.modelName() + "'");
        }
    }

    static ApiError tooLarge(String message) {
        return new ApiError(413, "invalid_request_error", null, "request_too_large", message);
    }

    static ApiError tooManyRequests(String message) {
        return new ApiError(429, "rate_limit_error", null, "queue_full", message);
    }

    static ApiError notImplemented(String code, String message) {
        return new ApiError(501, "not_implemented", null, code, message);
    }

    static ApiError unavailable(String code, String message) {
        return new ApiError(503, "service_unavailable", null, code, message);
    }

    static ApiError internal(String message) {
        return new ApiError(500, "server_error", null, null, message);
    }

    ObjectNode body() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
