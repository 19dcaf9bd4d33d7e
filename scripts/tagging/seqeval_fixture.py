"""Makes finetune/src/test/resources/seqeval/seqeval-cases.json: random BIO tag sequences and Python seqeval's
entity-level numbers for them, in its default (conlleval) mode and in mode="strict", scheme=IOB2, for
EntityReportTest to compare against.

    python3 -m venv /tmp/venv-seqeval && /tmp/venv-seqeval/bin/pip install seqeval==1.2.2
    /tmp/venv-seqeval/bin/python scripts/tagging/seqeval_fixture.py > finetune/src/test/resources/seqeval/seqeval-cases.json
"""
import json
import random

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def sentences(rng, n):
    return [[rng.choice(TAGS) for _ in range(rng.randint(1, 9))] for _ in range(n)]


def numbers(y_true, y_pred, **mode):
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **mode)
    return {
        "precision": precision_score(y_true, y_pred, zero_division=0, **mode),
        "recall": recall_score(y_true, y_pred, zero_division=0, **mode),
        "f1": f1_score(y_true, y_pred, zero_division=0, **mode),
        "per_type": {k: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"],
                         "support": int(v["support"])}
                     for k, v in report.items() if not k.endswith(" avg")},
    }


def main():
    rng = random.Random(18)
    cases = []
    for _ in range(40):
        y_true = sentences(rng, rng.randint(1, 6))
        # predictions: the truth with some tags changed, so that spans partly match
        y_pred = [[t if rng.random() < 0.7 else rng.choice(TAGS) for t in s] for s in y_true]
        cases.append({"truth": y_true, "predicted": y_pred,
                      "default": numbers(y_true, y_pred),
                      "strict_iob2": numbers(y_true, y_pred, mode="strict", scheme=IOB2)})
    print(json.dumps({"seqeval": "1.2.2", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
