package dev.attune.examples.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Reproducible English-like text for tokenizer throughput, made on the spot (nothing is downloaded): words drawn
 * with a Zipf-like skew from a fixed list plus made-up rare words (3 in 40), sentences with capitals, punctuation,
 * numbers, quotes, the odd accented word, in paragraphs. The same seed gives the same text on every machine.
 */
final class BenchText {

    private static final String[] WORDS = ("the of and to a in is it you that he was for on are with as I his they be "
            + "at one have this from or had by hot word but what some we can out other were all there when up use "
            + "your how said an each she which do their time if will way about many then them write would like so "
            + "these her long make thing see him two has look more day could go come did number sound no most people "
            + "my over know water than call first who may down side been now find any new work part take get place "
            + "made live where after back little only round man year came show every good me give our under name "
            + "very through just form sentence great think say help low line differ turn cause much mean before move "
            + "right boy old too same tell does set three want air well also play small end put home read hand port "
            + "large spell add even land here must big high such follow act why ask men change went light kind off "
            + "need house picture try us again animal point mother world near build self earth father head stand own "
            + "page should country found answer school grow study still learn plant cover food sun four between state "
            + "keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late "
            + "run don't while press close night real life few north open seem together next white children begin got "
            + "walk example ease paper group always music those both mark often letter until mile river car feet care "
            + "second book carry took science eat room friend began idea fish mountain stop once base hear horse cut "
            + "sure watch color face wood main enough plain girl usual young ready above ever red list though feel "
            + "talk bird soon body dog family direct pose leave song measure door product black short numeral class "
            + "wind question happen complete ship area half rock order fire south problem piece told knew pass since "
            + "top whole king space heard best hour better true during hundred five remember step early hold west "
            + "ground interest reach fast verb sing listen six table travel less morning ten simple several vowel "
            + "toward war lay against pattern slow center love person money serve appear road map rain rule govern "
            + "pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan "
            + "figure star box noun field rest correct able pound done beauty drive stood contain front teach week "
            + "final gave green oh quick develop ocean warm free minute strong special mind behind clear tail produce "
            + "fact street inch multiply nothing course stay wheel full force blue object decide surface deep moon "
            + "island foot system busy test record boat common gold possible plane café naïve résumé tokenizer")
            .split(" ");

    private BenchText() {
    }

    /** Paragraphs totalling about {@code bytes} UTF-8 bytes. */
    static List<String> paragraphs(int bytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        int total = 0;
        while (total < bytes) {
            StringBuilder p = new StringBuilder();
            int sentences = 2 + random.nextInt(6);
            for (int s = 0; s < sentences; s++) {
                sentence(p, random);
            }
            String text = p.toString().strip() + "\n\n";
            out.add(text);
            total += text.length();
        }
        return out;
    }

    /**
     * A made-up word from random syllables: the long tail of names and rare words that real text has and a fixed
     * list lacks, so a tokenizer's word cache cannot hold the whole text.
     */
    private static String rareWord(SplittableRandom random) {
        StringBuilder w = new StringBuilder();
        int syllables = 2 + random.nextInt(3);
        for (int i = 0; i < syllables; i++) {
            w.append(SYLLABLES[random.nextInt(SYLLABLES.length)]);
        }
        return w.toString();
    }

    private static final String[] SYLLABLES = ("ka lo mi ter an dor vel ix qua sen tho rin gal pe bru zor "
            + "wy fen cha ost lum dre vi nak sol mer tah jor kle ump").split(" ");

    private static void sentence(StringBuilder p, SplittableRandom random) {
        int words = 4 + random.nextInt(18);
        boolean quoted = random.nextInt(10) == 0;
        if (quoted) {
            p.append('"');
        }
        for (int w = 0; w < words; w++) {
            String word;
            int roll = random.nextInt(40);
            if (roll == 0) {
                word = Integer.toString(random.nextInt(100_000));
            } else if (roll < 4) {
                word = rareWord(random);
            } else {
                // Zipf-like: the square of a uniform draw favours the front of the list.
                double u = random.nextDouble();
                word = WORDS[(int) (u * u * WORDS.length)];
            }
            if (w == 0) {
                word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
            }
            p.append(word);
            if (w < words - 1) {
                p.append(random.nextInt(12) == 0 ? ", " : " ");
            }
        }
        p.append(random.nextInt(8) == 0 ? "?" : ".");
        if (quoted) {
            p.append('"');
        }
        p.append(' ');
    }
}
