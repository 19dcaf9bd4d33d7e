package dev.attune.examples.cli;

import dev.attune.examples.sentiment.SentimentExample;
import dev.attune.examples.sentiment.SentimentExample.Method;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attune sentiment}: the financial-headline sentiment example (see {@link SentimentExample}). */
@Command(name = "sentiment", mixinStandardHelpOptions = true,
        description = {"Financial-news sentiment: Tribuo logistic regression vs zero-shot vs few-shot vs LoRA vs full "
                + "fine-tuning, one Tribuo evaluation table."})
public final class SentimentCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private ExampleOptions options;

    @Option(names = "--methods", split = ",", paramLabel = "M",
            description = "methods to run (default: all): majority, tribuo, zero_shot, few_shot, lora, lora_head, full")
    private List<String> methods;

    @Option(names = "--steps", paramLabel = "N", description = "LoRA's and full fine-tuning's steps (default: 150, "
            + "40 with --reduced)")
    private Integer steps;

    @Option(names = "--lora-lr", paramLabel = "LR", description = "LoRA's peak learning rate (default: 3e-3)")
    private Double loraLr;

    @Override
    public Integer call() throws Exception {
        SentimentExample.Settings s = SentimentExample.Settings.defaults();
        s = (options.reduced ? s.reduced() : s).withPaths(options.model(s.model()), options.data(s.data()),
                options.out(s.out())).withProgress(!options.noProgress);
        if (methods != null) {
            EnumSet<Method> chosen = EnumSet.noneOf(Method.class);
            for (String m : methods) {
                try {
                    chosen.add(Method.valueOf(m.strip().toUpperCase(Locale.ROOT).replace('-', '_')));
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "--methods: unknown method '" + m
                            + "'; use any of majority, tribuo, zero_shot, few_shot, lora, lora_head, full");
                }
            }
            s = s.withMethods(chosen);
        }
        if (steps != null) {
            if (steps < 1) {
                throw new ParameterException(spec.commandLine(), "--steps must be at least 1, got " + steps);
            }
            s = s.withSteps(steps);
        }
        if (loraLr != null) {
            if (!(loraLr > 0)) {
                throw new ParameterException(spec.commandLine(), "--lora-lr must be positive, got " + loraLr);
            }
            s = s.withLora(s.lora().withLr(loraLr));
        }
        SentimentExample.run(s, System.out);
        return 0;
    }
}
