package dev.attune.finetune.heads;

import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What {@link HeadTrainable} trains on the model's final hidden states: a linear layer {@code weight [L, C]} (and
 * optionally {@code bias [L]}) whose logits at each position that carries a class index enter a cross-entropy.
 * The sequence classifier's {@code score} and the token classifier's {@code classifier} are both one.
 */
interface LinearHead {

    GptModel model();

    int numLabels();

    /** The weight's tensor name, as in the Hugging Face model's state dict. */
    String weightName();

    /** The bias's tensor name; {@code null} for a layer without bias. */
    String biasName();

    /** {@code [L, C]}. */
    INDArray weight();

    /** {@code [L]}, or {@code null}. */
    INDArray bias();

    /** From now on the head's tensors are these views (their values copied in first); {@code bias} null without bias. */
    void bind(INDArray weight, INDArray bias);

    /** Dropout probability on the hidden states the head reads, in training passes (0: none). */
    double dropout();

    /**
     * PEFT's {@code task_type} of the head's task model ({@code SEQ_CLS}, {@code TOKEN_CLS}): written when the head
     * is saved with an adapter as {@code modules_to_save}.
     */
    String taskType();

    /** The file a saved trainable keeps the head in. */
    String fileName();

    void save(Path file) throws IOException;

    void load(Path file) throws IOException;

    /** "the classification head", for messages. */
    String description();
}
