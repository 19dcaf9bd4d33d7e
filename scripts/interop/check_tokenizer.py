#!/usr/bin/env python3
"""Cross-checks Attune's GPT-2 tokenizer against independent implementations, through `attune tokenize --jsonl`.

Not part of the Maven suite (which must not need Python). Needs Python with tiktoken, tokenizers and regex, Java 17,
and the project built (mvn -B -DskipTests package). Run from the repository root:

    python scripts/interop/check_tokenizer.py                      # tiktoken with r50k_base ranks
    python scripts/interop/check_tokenizer.py --openai-dir DIR     # also OpenAI's encoder.py algorithm and HF
                                                                    # tokenizers over DIR/encoder.json, DIR/vocab.bpe

Checks, on hand-picked tricky strings plus a few thousand random ones (scripts, emoji, whitespace kinds, digits,
contractions):
  1. Attune's ids equal tiktoken's encode_ordinary with the r50k_base ranks taken from the JTokkit jar (tiktoken
     itself would download them) and GPT-2's original split pattern.
  2. With --openai-dir: they also equal OpenAI's original encoder.py algorithm (Python `regex`, pair-rank BPE) and
     Hugging Face tokenizers' ByteLevel BPE, both over the original files.
  3. The tokenizer.json Attune writes loads in Hugging Face tokenizers and gives the same ids (strings that spell a
     special token are left out: HF matches them in text, Attune only when allowed).
"""
import argparse, base64, glob, json, os, random, subprocess, sys, tempfile, zipfile

import regex
import tiktoken
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

TRICKY = ["", " ", "  ", "\n\n", " \n", "\t\t", "   a", "a  ", "Hello world", " Hello world", "I'VE", "I've",
          "YOU'LL", "''s", "rock'n'roll", "cafe\u0301", "日本語のテキスト", "🙂", "👨‍👩‍👧‍👦", "\u0085", "a\u00a0b",
          "\u2028", "\u3000x", "\ufeff", "\u001c\u001f", "x\r\ny", "    indented\n\tand tab", " 123 456",
          "٣٤٥", "½¾", "<|endoftext|>", "x" * 300, " " * 300, "ab" * 200 + "!", "🙂" * 50]


def random_strings(n, seed=1234):
    rnd = random.Random(seed)
    pools = [(0x20, 0x7e), (0x00, 0x20), (0xa0, 0x2ff), (0x300, 0x36f), (0x370, 0x52f), (0x590, 0x6ff),
             (0x900, 0x97f), (0x2000, 0x206f), (0x3000, 0x30ff), (0x4e00, 0x4eff), (0xac00, 0xacff),
             (0x1f300, 0x1faff), (0x1d400, 0x1d7ff)]
    ws = [" ", " ", "\n", "\t", "\u00a0", "\u0085", "\r", "'", "s", "1", "é"]
    out = []
    for _ in range(n):
        s = []
        for _ in range(rnd.randint(0, 30)):
            if rnd.random() < 0.3:
                s.append(rnd.choice(ws))
            else:
                lo, hi = rnd.choice(pools)
                c = rnd.randint(lo, hi)
                s.append(chr(c) if not 0xd800 <= c < 0xe000 else "x")
        out.append("".join(s))
    return out


def attune(args, strings, tmp):
    path = os.path.join(tmp, "in.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for s in strings:
            f.write(json.dumps(s) + "\n")
    cmd = [os.path.join(ROOT, "attune"), "tokenize", "--jsonl", path] + args
    lines = subprocess.run(cmd, check=True, capture_output=True, text=True, encoding="utf-8").stdout.splitlines()
    # --jsonl skips blank lines, and json.dumps never writes one, so lines match strings one to one.
    return [json.loads(l) for l in lines]


def r50k():
    jars = glob.glob(os.path.expanduser("~/.m2/repository/com/knuddels/jtokkit/*/jtokkit-*.jar"))
    with zipfile.ZipFile(sorted(jars)[-1]) as z:
        data = z.read("com/knuddels/jtokkit/r50k_base.tiktoken").decode()
    ranks = {base64.b64decode(t): int(r) for t, r in (l.split() for l in data.splitlines() if l)}
    return tiktoken.Encoding(name="r50k", pat_str=PATTERN, mergeable_ranks=ranks,
                             special_tokens={"<|endoftext|>": 50256})


def openai_encoder(directory):
    encoder = json.load(open(os.path.join(directory, "encoder.json"), encoding="utf-8"))
    merges = [tuple(l.split()) for l in open(os.path.join(directory, "vocab.bpe"), encoding="utf-8")
              .read().split("\n")[1:-1]]
    ranks = dict(zip(merges, range(len(merges))))
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + len(cs) - 188)
    b2u = dict(zip(bs, map(chr, cs)))
    pat = regex.compile(PATTERN)

    def bpe(word):  # encoder.py: merge the lowest-ranked pair everywhere, repeat
        word = tuple(word)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
            if best not in ranks:
                break
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    new.append(word[i] + word[i + 1])
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        return word

    def encode(text):
        return [encoder[t] for piece in pat.findall(text)
                for t in bpe("".join(b2u[b] for b in piece.encode("utf-8")))]

    hf = Tokenizer(models.BPE(vocab=encoder, merges=merges))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    return encode, lambda t: hf.encode(t).ids


def compare(name, strings, got, reference):
    bad = [(s, g, r) for s, g, r in zip(strings, got, map(reference, strings)) if g != r]
    print(f"{name}: {len(strings) - len(bad)} of {len(strings)} equal")
    for s, g, r in bad[:5]:
        print(f"  {s!r}: attune {g}, reference {r}")
    return not bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--openai-dir", help="directory with OpenAI's encoder.json and vocab.bpe")
    ap.add_argument("--random", type=int, default=3000, help="number of random strings")
    a = ap.parse_args()
    strings = TRICKY + random_strings(a.random)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        got = attune([], strings, tmp)
        ok &= compare("tiktoken r50k_base", strings, got, r50k().encode_ordinary)
        if a.openai_dir:
            original, hf = openai_encoder(a.openai_dir)
            ok &= compare("OpenAI encoder.py", strings, got, original)
            ok &= compare("HF tokenizers (original files)", strings, got, hf)
        saved = os.path.join(tmp, "saved")
        java = ["java", "-cp", os.path.join(ROOT, "core", "target", "classes") + os.pathsep
                + os.pathsep.join(glob.glob(os.path.expanduser("~/.m2/repository/com/knuddels/jtokkit/*/*.jar"))
                                  + glob.glob(os.path.expanduser("~/.m2/repository/com/fasterxml/jackson/core/*/2.*/*.jar"))
                                  + glob.glob(os.path.expanduser("~/.m2/repository/org/slf4j/slf4j-api/2.*/*.jar")))]
        src = os.path.join(tmp, "Save.java")
        with open(src, "w") as f:
            f.write("public class Save { public static void main(String[] a) throws Exception {"
                    " dev.attune.core.tokenizer.Tokenizer.gpt2().save(java.nio.file.Path.of(a[0])); } }")
        subprocess.run(java + [src, saved], check=True)
        written = Tokenizer.from_file(os.path.join(saved, "tokenizer.json"))
        plain = [s for s in strings if "<|endoftext|>" not in s]
        ok &= compare("HF tokenizers (Attune's tokenizer.json)", plain, [g for s, g in zip(strings, got)
                                                                          if "<|endoftext|>" not in s],
                      lambda t: written.encode(t, add_special_tokens=False).ids)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
