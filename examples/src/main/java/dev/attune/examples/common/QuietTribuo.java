package dev.attune.examples.common;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tribuo logs every training run at INFO through java.util.logging; the examples print their own report, so those
 * lines are raised to WARNING. The logger is held here because java.util.logging keeps loggers only weakly.
 */
public final class QuietTribuo {

    private static final Logger TRIBUO = Logger.getLogger("org.tribuo");

    private QuietTribuo() {
    }

    /** Hides Tribuo's INFO lines (warnings still show). */
    public static void apply() {
        TRIBUO.setLevel(Level.WARNING);
    }
}
