package dev.attune.examples.support;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.Tuning;
import dev.attune.prompting.metrics.Rouge;
import dev.attune.prompting.template.ChatMessage;
import dev.attune.prompting.template.ChatTemplate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A customer-support assistant: the base model fine-tuned (LoRA with the token embedding trained beside it,
 * {@link Tuning#loraOnLines}) on support dialogues (every assistant turn is a
 * completion of the dialogue before it, rendered with {@link ChatTemplate#simple()}), scored by ROUGE-L of its
 * replies on held-out dialogues before and after, then a chat in the terminal with streamed replies, or a replay of
 * scripted user turns ({@code --replay}, what the tests run).
 *
 * <pre>
 * ./attune support              # fine-tune, score, then chat (empty line or Ctrl-D ends)
 * ./attune support --replay     # fine-tune, score, then replay a scripted conversation
 * </pre>
 */
public final class SupportExample {

    /** The scripted conversation {@code --replay} plays. */
    public static final List<String> SCRIPT = List.of("Hi! I forgot my password.", "Thanks!",
            "Where is my order 12345?", "How do I cancel my subscription?");

    /**
     * What to run.
     *
     * @param model      base model directory
     * @param data       folder with train.jsonl and test.jsonl ({topic, messages})
     * @param out        where the adapter is saved
     * @param trainItems training dialogues used (0: all)
     * @param testItems  test dialogues scored (0: all)
     * @param lora       LoRA's training
     */
    public record Settings(Path model, Path data, Path out, int trainItems, int testItems, Tuning.Settings lora) {

        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("support"),
                    Path.of("runs", "support"), 0, 0, new Tuning.Settings(120, 8, 5e-3, 7, true));
        }

        /** Fewer items and steps: the tests' mode. */
        public Settings reduced() {
            return new Settings(model, data, out, 48, 6, lora.withSteps(24).withBatchSize(8));
        }

        public Settings withProgress(boolean show) {
            return new Settings(model, data, out, trainItems, testItems, lora.withProgress(show));
        }

        public Settings withPaths(Path modelDir, Path dataDir, Path outDir) {
            return new Settings(modelDir, dataDir, outDir, trainItems, testItems, lora);
        }
    }

    /** Mean ROUGE-L of the first assistant reply of each test dialogue, before and after fine-tuning. */
    public record Result(double rougeLBefore, double rougeLAfter, double replyLossBefore, double replyLossAfter,
                         Path adapter, List<ChatMessage> conversation) {
    }

    private static final int MAX_REPLY_TOKENS = 40;

    private SupportExample() {
    }

    public static void main(String[] args) throws IOException {
        Settings s = Settings.defaults();
        boolean reduced = List.of(args).contains("--reduced");
        boolean replay = List.of(args).contains("--replay");
        BufferedReader stdin = new BufferedReader(new java.io.InputStreamReader(System.in,
                java.nio.charset.StandardCharsets.UTF_8));
        run(reduced ? s.reduced() : s, System.out, replay ? null : stdin);
    }

    /**
     * Fine-tunes, scores, then chats: with {@code input} null the scripted turns are replayed, otherwise each line of
     * {@code input} is a user turn until an empty line or the end of input.
     */
    public static Result run(Settings s, PrintStream console, BufferedReader input) throws IOException {
        List<List<ChatMessage>> train = ExampleFiles.head(read(s.data().resolve("train.jsonl")), s.trainItems());
        List<List<ChatMessage>> test = ExampleFiles.head(read(s.data().resolve("test.jsonl")), s.testItems());
        console.printf(Locale.ROOT, "Customer-support assistant: %d training, %d test dialogues (%s)%n", train.size(),
                test.size(), s.data());
        ChatTemplate template = ChatTemplate.simple();
        Pretrained base = Pretrained.load(s.model());
        Rouge rouge = Rouge.create();

        console.println("[1/3] The base model replies to the test dialogues ...");
        double before = replyRouge(base, template, rouge, test);
        console.printf(Locale.ROOT, "[2/3] Fine-tuning, %s, on every assistant turn (%d steps of %d) ...%n",
                Tuning.GENERATION_LABEL, s.lora().steps(), s.lora().batchSize());
        Tuning.LineTuning lora = Tuning.loraOnLines(base, pairs(template, train), pairs(template, test), s.lora());
        console.println("      trained: " + lora.description());
        double lossBefore = lora.heldOutLossBefore();
        double lossAfter = lora.heldOutLossAfter();
        Path adapter = s.out().resolve("adapter");
        lora.trained().save(adapter);
        console.println("[3/3] The fine-tuned model replies to the test dialogues ...");
        double after = replyRouge(base, template, rouge, test);
        console.printf(Locale.ROOT, "%nReply ROUGE-L on %d held-out dialogues: base model %.3f, %s %.3f%n",
                test.size(), before, Tuning.GENERATION_LABEL, after);
        console.printf(Locale.ROOT, "Loss of the reference replies in the test dialogues (nats per token): %.3f before, "
                + "%.3f after fine-tuning%n", lossBefore, lossAfter);
        console.printf("Adapter (LoRA and modules_to_save, PEFT's layout) saved to %s%n%n", adapter);

        List<ChatMessage> conversation = chat(base, template, console, input);
        return new Result(before, after, lossBefore, lossAfter, adapter, conversation);
    }

    /** The chat loop: user turns from {@code input} (or the script when null), replies streamed to the console. */
    static List<ChatMessage> chat(Pretrained lm, ChatTemplate template, PrintStream console, BufferedReader input)
            throws IOException {
        List<ChatMessage> dialogue = new ArrayList<>();
        dialogue.add(ChatMessage.system(SYSTEM));
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(MAX_REPLY_TOKENS)
                .stopStrings(stops(template)).contextOverflow(GenerationConfig.ContextOverflow.TRUNCATE_LEFT)
                .build();
        Generator generator = Generator.of(lm.model(), lm.tokenizer());
        console.println(input == null ? "Replaying a scripted conversation:" : "Chat with the assistant (empty line "
                + "ends):");
        for (int turn = 0; ; turn++) {
            String user;
            if (input == null) {
                if (turn >= SCRIPT.size()) {
                    break;
                }
                user = SCRIPT.get(turn);
                console.println("you> " + user);
            } else {
                console.print("you> ");
                console.flush();
                user = input.readLine();
                if (user == null || user.isBlank()) {
                    break;
                }
            }
            dialogue.add(ChatMessage.user(user.strip()));
            console.print("assistant> ");
            String reply = generator.generate(template.render(dialogue, true), config, piece -> {
                console.print(piece);
                console.flush();
            }).text();
            for (String stop : stops(template)) {
                int at = reply.indexOf(stop);
                reply = at >= 0 ? reply.substring(0, at) : reply;
            }
            console.println();
            dialogue.add(ChatMessage.assistant(reply.strip()));
        }
        return dialogue;
    }

    /** A reply is one line: the template's stop strings, and the line break training ends every reply with. */
    static List<String> stops(ChatTemplate template) {
        List<String> stops = new ArrayList<>(template.stopStrings());
        stops.add("\n");
        return stops;
    }

    static final String SYSTEM = "You are the support assistant of Attune Shop. Answer briefly and politely.";

    /** One pair per assistant turn: the dialogue before it (ending in the assistant prefix) and the reply. */
    static List<Tuning.Pair> pairs(ChatTemplate template, List<List<ChatMessage>> dialogues) {
        List<Tuning.Pair> pairs = new ArrayList<>();
        for (List<ChatMessage> d : dialogues) {
            for (int i = 0; i < d.size(); i++) {
                if (d.get(i).role().equals("assistant")) {
                    pairs.add(new Tuning.Pair(template.render(d.subList(0, i), true), d.get(i).content()));
                }
            }
        }
        return pairs;
    }

    /** Mean ROUGE-L of the model's first reply in each dialogue against the reference reply. */
    static double replyRouge(Pretrained lm, ChatTemplate template, Rouge rouge, List<List<ChatMessage>> dialogues) {
        List<String> prompts = new ArrayList<>();
        List<String> references = new ArrayList<>();
        for (List<ChatMessage> d : dialogues) {
            for (int i = 0; i < d.size(); i++) {
                if (d.get(i).role().equals("assistant")) {
                    prompts.add(template.render(d.subList(0, i), true));
                    references.add(d.get(i).content());
                    break;
                }
            }
        }
        List<String> replies = Tuning.complete(lm.model(), lm.tokenizer(), prompts, MAX_REPLY_TOKENS,
                stops(template).toArray(String[]::new));
        double sum = 0;
        for (int i = 0; i < replies.size(); i++) {
            sum += rouge.score(replies.get(i), List.of(references.get(i))).rougeL();
        }
        return sum / replies.size();
    }

    static List<List<ChatMessage>> read(Path file) throws IOException {
        List<JsonNode> nodes = ExampleFiles.readJsonl(file);
        List<List<ChatMessage>> dialogues = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            JsonNode messages = nodes.get(i).get("messages");
            if (messages == null || !messages.isArray() || messages.isEmpty()) {
                throw new IOException(file + ", item " + (i + 1) + ": expected a non-empty array \"messages\"");
            }
            List<ChatMessage> d = new ArrayList<>();
            for (JsonNode m : messages) {
                try {
                    d.add(new ChatMessage(ExampleFiles.text(m, "role", file, i), ExampleFiles.text(m, "content", file,
                            i)));
                } catch (IllegalArgumentException e) {
                    throw new IOException(file + ", item " + (i + 1) + ": " + e.getMessage());
                }
            }
            dialogues.add(d);
        }
        return dialogues;
    }
}
