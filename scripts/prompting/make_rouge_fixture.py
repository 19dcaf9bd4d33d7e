#!/usr/bin/env python3
"""Makes the ROUGE fixture of RougeReferenceTest: ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum (precision, recall,
F-measure) of prediction/reference pairs, with and without Porter stemming, as Google's rouge-score computes them.

The reference is Google's `rouge-score` package (`rouge_scorer.RougeScorer(types, use_stemmer=...)`, what
lm-evaluation-harness and Hugging Face `evaluate` call) when it can be imported. Where it cannot be installed (this
project's machines reach no Python package index that has it), the script falls back to TorchMetrics'
`torchmetrics.functional.text.rouge.rouge_score`, a port of rouge-score that TorchMetrics' own test suite checks
against rouge-score: the same tokenizer (lower-case, `[^a-z0-9]+` -> space, split, NLTK's Porter stemmer on tokens
longer than 3 characters), the same clipped n-gram overlap, LCS and summary-level union-LCS. Its ROUGE-Lsum splits
sentences with NLTK's punkt (a download); it is given rouge-score's default instead (`split_summaries=False`:
sentences are the text's lines). The fixture records which reference made it.

Cases under "same" must match Attune to 1e-6; cases under "differs" are where Attune differs by design (its
OpenNLP tokenizer and sentence detector); the test checks the difference stays as documented.

The second file lists words and NLTK's Porter stem of each (the stemmer rouge-score uses, NLTK_EXTENSIONS mode):
the words of the Porter paper's examples, the irregular forms NLTK lists, and a seeded sample of the distinct words
of the Jargon File that ships in examples/data/corpus.

Run once with a Python that has rouge-score (or torch, torchmetrics and nltk), from the repository root:
    python scripts/prompting/make_rouge_fixture.py prompting/src/test/resources/fixtures/rouge-reference.json \
        prompting/src/test/resources/fixtures/nltk-porter-stems.tsv
"""
import gzip
import json
import random
import re
import sys

TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")

SAME = [
    # (name, prediction, reference or [references], stemming)
    ("lin-2004-s2", "police kill the gunman", "police killed the gunman", False),
    ("lin-2004-s3", "the gunman kill police", "police killed the gunman", False),
    ("identical", "The quick brown fox jumps over the lazy dog.", "The quick brown fox jumps over the lazy dog.",
     False),
    ("no-overlap", "Stock markets fell sharply on Monday.", "A new species of frog was found in Peru.", False),
    ("clipped-repeats", "the the the the the", "the cat sat on the mat", False),
    ("numbers-and-punctuation", "The price rose 3.5% to $12,000 in Q3-2024 (a record).",
     "In Q3 2024 the price rose by 3.5 percent to 12,000 dollars, a record.", False),
    ("hyphens-slashes-case", "State-of-the-art results on CIFAR-10/100 and ImageNet",
     "Results on ImageNet and CIFAR-100 are STATE OF THE ART", False),
    ("stemming-off", "The runners were running quickly towards the finishing lines",
     "A runner runs quickly to the finish line", False),
    ("stemming-on", "The runners were running quickly towards the finishing lines",
     "A runner runs quickly to the finish line", True),
    ("stemming-on-connections", "connected connections are connecting the generalized networks",
     "the network connects and generalizes connection", True),
    ("empty-prediction", "", "Something was expected here.", False),
    ("lsum-lines", "The cat sat on the mat.\nThe dog barked loudly at the mailman.",
     "A dog barked at the mailman.\nThe cat was sitting on a mat.", False),
    ("lsum-lines-stemmed", "Officials announced new measures.\nThe measures take effect in March.\nCritics "
     "called them insufficient.",
     "New measures were announced by officials on Tuesday.\nCritics say the measures are insufficient.\nThey "
     "start in March.", True),
    ("lsum-lines-repeats", "the cat the cat\nthe dog", "the cat and the dog\nthe cat", False),
    ("contraction", "I don't think it's ready", "I do not think it is ready", False),
    ("best-of-three-references", "The committee approved the budget on Friday.",
     ["The budget was rejected.", "On Friday the committee approved the new budget.",
      "Friday: committee approves budget"], True),
    ("stemmer-nltk-extensions", "Hopefully the ties hold and the dying fires enjoy the skies",
     "The tie holds, hopefully; the fire died and enjoyed the sky", True),
]

DIFFERS = [
    # (name, prediction, reference, stemming, why)
    ("digits-then-letters", "The meeting starts at 3:30pm in room 4b", "The meeting is at 3:30 pm in room 4b", False,
     "OpenNLP's tokenizer splits 30pm into 30 + pm (and keeps 4b); rouge-score's regex keeps 30pm"),
    ("non-ascii-letters", "Le café est très bon", "Le café était très bon", False,
     "Attune keeps letters outside a-z (café, très); rouge-score drops them (caf, tr, s)"),
    ("sentences-on-one-line", "The cat sat on the mat. The dog ran away.",
     "The dog ran away. The cat sat on the mat.", False,
     "Attune's ROUGE-Lsum splits each line into sentences (OpenNLP); rouge-score's default takes a line as one"),
]


def reference_scorer():
    try:
        from rouge_score import rouge_scorer

        def score(prediction, references, stem):
            s = rouge_scorer.RougeScorer(list(TYPES), use_stemmer=stem).score_multi(references, prediction)
            return {t: [s[t].precision, s[t].recall, s[t].fmeasure] for t in TYPES}

        import rouge_score
        return score, "rouge-score " + getattr(rouge_score, "__version__", "?")
    except ImportError:
        import torch
        import torchmetrics
        from torchmetrics.functional.text import rouge as tm

        torch.set_default_dtype(torch.float64)  # its scores are tensors: keep them doubles, not float32

        # rouge-score's default for rougeLsum: the lines are the sentences (empty lines dropped)
        tm._split_sentence = lambda text: [line for line in text.split("\n") if len(line)]

        def one(prediction, reference, stem):
            s = tm.rouge_score(prediction, reference, use_stemmer=stem, rouge_keys=TYPES)
            return {t: [float(s[t + "_precision"]), float(s[t + "_recall"]), float(s[t + "_fmeasure"])]
                    for t in TYPES}

        def score(prediction, references, stem):
            # rouge-score's score_multi: per type, the reference with the highest F-measure (the first on a tie)
            scores = [one(prediction, r, stem) for r in references]
            return {t: max(scores, key=lambda s: s[t][2])[t] for t in TYPES}

        import nltk
        return score, ("torchmetrics " + torchmetrics.__version__ + " (rouge-score's algorithm; NLTK "
                       + nltk.__version__ + " Porter stemmer; rougeLsum sentences = lines)")


def main(out):
    score, made_by = reference_scorer()
    fixture = {"made_by": made_by, "order": ["precision", "recall", "fmeasure"], "same": [], "differs": []}
    for name, prediction, reference, stem in SAME:
        references = reference if isinstance(reference, list) else [reference]
        fixture["same"].append({"name": name, "prediction": prediction, "references": references, "stem": stem,
                                **score(prediction, references, stem)})
    for name, prediction, reference, stem, why in DIFFERS:
        case = {"name": name, "prediction": prediction, "references": [reference], "stem": stem, "why": why,
                **score(prediction, [reference], stem)}
        if name == "sentences-on-one-line":
            # what rouge-score gives with one sentence a line: what Attune's sentence detector makes of it
            on_lines = score(prediction.replace(". ", ".\n"), [reference.replace(". ", ".\n")], stem)
            case["rougeLsum_sentences_on_lines"] = on_lines["rougeLsum"]
        fixture["differs"].append(case)
    with open(out, "w", encoding="utf-8") as f:  # one case a line
        f.write("{\"made_by\": " + json.dumps(made_by) + ",\n \"order\": " + json.dumps(fixture["order"]))
        for part in ("same", "differs"):
            f.write(",\n \"" + part + "\": [\n  ")
            f.write(",\n  ".join(json.dumps(case, ensure_ascii=False) for case in fixture[part]))
            f.write("]")
        f.write("}\n")
    json.load(open(out, encoding="utf-8"))
    print("wrote", out, "with", made_by)


PORTER_EXAMPLES = """caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized
hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci hesitanci
digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism
decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize electriciti
electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible irritant
replacement adjustment dependent adoption homologou communism activate angulariti homologous effective bowdlerize
probate rate cease controll roll generalizations oscillators enjoy enjoyment spied tried flies dying lying tying
skies news innings outings cannings howe proceed exceed succeed hopefully fully logically analogies archaeology
ied dies lies ties cried yyyy syzygy toy toys""".split()


def stems(out):
    from nltk.stem import porter
    stemmer = porter.PorterStemmer()  # NLTK_EXTENSIONS, as rouge-score makes it
    with gzip.open("examples/data/corpus/jargon-4.4.7.txt.gz", "rt", encoding="utf-8", errors="replace") as f:
        corpus = sorted(set(re.findall(r"[a-z]+", f.read().lower())))
    words = list(dict.fromkeys(PORTER_EXAMPLES + random.Random(1).sample(corpus, min(5000, len(corpus)))))
    with open(out, "w", encoding="utf-8") as f:
        for w in words:
            f.write(w + "\t" + stemmer.stem(w) + "\n")
    print("wrote", out, "with", len(words), "words")


if __name__ == "__main__":
    main(sys.argv[1])
    stems(sys.argv[2])
