#!/usr/bin/env python3
"""Writes the example data sets under examples/data/ from templates and word lists (no download, no model).

Every set is written for the project: the texts are synthetic, made by filling the templates below with the word
lists below, under a fixed seed, so the files are reproducible byte for byte:

    python3 scripts/examples/make_datasets.py examples/data

Each set gets train.jsonl and test.jsonl; the test split is drawn from its own entities where that matters
(companies, people, products) so no example can score by remembering a test item from training.
"""
import json
import random
import sys
from pathlib import Path

SEED = 20261202

COMPANIES = ["Acme Corp", "Northwind Traders", "Globex", "Initech", "Umbrella Holdings", "Stark Industries",
             "Wayne Enterprises", "Hooli", "Vandelay Industries", "Soylent Foods", "Cyberdyne Systems",
             "Tyrell Group", "Wonka Industries", "Gringotts Bank", "Oscorp", "Massive Dynamic", "Aperture Labs",
             "Blue Sun Corp", "Monarch Mining", "Sterling Cooper", "Dunder Mifflin", "Pied Piper",
             "Prestige Worldwide", "Nakatomi Trading", "Rekall Inc", "Veridian Dynamics", "Bluth Company",
             "Kruger Steel", "Halcyon Energy", "Orbit Airlines", "Harbor Freight Lines", "Polaris Pharma",
             "Redwood Capital", "Summit Telecom", "Granite Insurance", "Crescent Retail", "Atlas Motors",
             "Beacon Software", "Cobalt Chemicals", "Delta Shipping"]
TEST_COMPANIES = ["Evergreen Foods", "Falcon Robotics", "Meridian Bank", "Quartz Semiconductors", "Silverline Rail",
                  "Tundra Outdoor", "Vertex Health", "Zephyr Wind Power"]
QUARTERS = ["first-quarter", "second-quarter", "third-quarter", "fourth-quarter", "full-year", "half-year"]
METRICS = ["profit", "revenue", "sales", "earnings", "operating income", "net income"]

POSITIVE = [
    "{c} shares jump {p}% after {q} {m} beats forecasts",
    "{c} raises its full-year outlook as demand stays strong",
    "{c} reports record {q} {m}, up {p}% from a year earlier",
    "{c} wins a {n} million dollar contract to supply the navy",
    "Analysts upgrade {c} to buy on strong order growth",
    "{c} {m} climbs {p}% on higher prices and lower costs",
    "{c} lifts its dividend by {p}% after a strong year",
    "{c} stock rallies as new product sales exceed expectations",
    "{c} posts a surprise {q} profit and cuts its debt",
    "{c} expands into three new markets after sales surge",
    "Investors cheer as {c} beats estimates for the {q} period",
    "{c} order backlog grows {p}%, boosting the share price",
]
NEGATIVE = [
    "{c} shares fall {p}% after {q} {m} misses forecasts",
    "{c} cuts its outlook and warns of weaker demand",
    "{c} reports a {q} loss as costs rise {p}%",
    "{c} to lay off {n} workers after sales slump",
    "Analysts downgrade {c} to sell on falling margins",
    "{c} {m} drops {p}% amid a price war",
    "{c} suspends its dividend after a difficult year",
    "{c} stock slides as regulators open an investigation",
    "{c} recalls {n} thousand units over safety concerns",
    "{c} loses a major customer and its shares tumble",
    "Investors flee as {c} misses estimates for the {q} period",
    "{c} warns of a {q} loss and higher debt",
]
NEUTRAL = [
    "{c} to hold its annual general meeting on {d}",
    "{c} appoints a new chief financial officer",
    "{c} will report {q} results on {d}",
    "{c} moves its headquarters to a new office in the same city",
    "{c} shares unchanged ahead of the {q} report",
    "{c} says {q} {m} in line with its earlier guidance",
    "{c} completes the planned renaming of its retail unit",
    "{c} confirms talks with suppliers are continuing",
    "{c} publishes its annual sustainability report",
    "{c} board re-elects its chairman for another term",
    "{c} to present at an industry conference on {d}",
    "{c} keeps its {q} guidance unchanged",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "March 3", "April 14", "May 21", "June 9",
        "September 30", "October 12", "November 18"]


def sentiment(rng, companies, n):
    items = []
    for i in range(n):
        label = ["negative", "neutral", "positive"][i % 3]
        pool = {"negative": NEGATIVE, "neutral": NEUTRAL, "positive": POSITIVE}[label]
        t = rng.choice(pool)
        text = t.format(c=rng.choice(companies), p=rng.randint(2, 35), q=rng.choice(QUARTERS), m=rng.choice(METRICS),
                        n=rng.choice([40, 120, 250, 600, 900, 1500]), d=rng.choice(DAYS))
        items.append({"text": text, "label": label})
    rng.shuffle(items)
    return items


CITIES = ["Leeds", "Lyon", "Porto", "Austin", "Osaka", "Tampere", "Graz", "Ghent", "Denver", "Malmo", "Cork", "Bergen"]
PRODUCTS = ["electric bikes", "coffee machines", "solar panels", "office chairs", "running shoes", "smart meters",
            "water filters", "garden tools", "wind turbines", "bread ovens", "tablets", "air purifiers"]
DIRECTIONS = [("rose", "up"), ("fell", "down")]
FILLER = ["The company did not give a forecast for next year.",
          "Its shares closed little changed on the day.",
          "The results were published before the market opened.",
          "The firm employs about {e} people.",
          "A spokesperson declined to comment further.",
          "The company was founded in {y}."]


def summarize(rng, companies, n):
    items = []
    for _ in range(n):
        c, city, prod = rng.choice(companies), rng.choice(CITIES), rng.choice(PRODUCTS)
        verb, short = rng.choice(DIRECTIONS)
        m, q, p = rng.choice(["revenue", "sales", "profit"]), rng.choice(QUARTERS[:4]), rng.randint(2, 40)
        reasons = (["higher demand for {prod}", "new stores", "lower shipping costs"] if short == "up"
                   else ["weaker demand for {prod}", "a stronger currency", "a long strike"])
        reason = rng.choice(reasons).format(prod=prod)
        ceo = rng.choice(FIRST) + " " + rng.choice(LAST)
        lead = f"{c}, the {city} maker of {prod}, published its {q} report on {rng.choice(DAYS)}."
        body = f"{m.capitalize()} {verb} {p} percent compared with a year earlier, which it put down to {reason}."
        quote = f"\"We {'are pleased with' if short == 'up' else 'are working hard on'} these numbers,\" said chief executive {ceo}."
        fill = rng.choice(FILLER).format(e=rng.choice([200, 800, 1500, 4000]), y=rng.randint(1950, 2015))
        sentences = [lead, body, quote, fill]
        document = " ".join(sentences)
        summary = f"{c} {q} {m} {short} {p}% on {reason}."
        items.append({"document": document, "summary": summary})
    return items


FIRST = ["Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jonas", "Kaori", "Leila",
         "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomas", "Ute", "Vera", "Wei", "Yusuf"]
TEST_FIRST = ["Anika", "Bram", "Celia", "Dmitri", "Elif", "Felix"]
LAST = ["Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann", "Ito", "Jensen", "Kowalski",
        "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"]
JOBS = ["engineer", "teacher", "baker", "pilot", "nurse", "architect", "chemist", "librarian"]
HOBBIES = ["chess", "rowing", "painting", "cycling", "gardening", "climbing", "baking", "sailing"]


def qa(rng, firsts, n):
    items = []
    for _ in range(n):
        name = rng.choice(firsts)
        last = rng.choice(LAST)
        city, job, hobby = rng.choice(CITIES), rng.choice(JOBS), rng.choice(HOBBIES)
        year = rng.randint(1960, 2005)
        context = (f"{name} {last} was born in {year} and lives in {city}. {name} works as a {job}. "
                   f"In the evenings {name} enjoys {hobby}.")
        kind = rng.randrange(4)
        if kind == 0:
            q, a = f"Where does {name} live?", city
        elif kind == 1:
            q, a = f"What does {name} work as?", job
        elif kind == 2:
            q, a = f"When was {name} born?", str(year)
        else:
            q, a = f"What does {name} enjoy in the evenings?", hobby
        items.append({"context": context, "question": q, "answer": a})
    return items


ORDER = lambda rng: f"{rng.randint(10000, 99999)}"
SUPPORT = [
    ("password", ["I forgot my password.", "How do I reset my password?", "I can't log in, my password is wrong."],
     "You can reset it under Settings > Security > Reset password. We will email you a link that works for one hour."),
    ("refund", ["I want a refund for order {o}.", "Can I get my money back for order {o}?", "How do refunds work?"],
     "Refunds go back to the original payment method within 5 business days once we receive the item."),
    ("shipping", ["Where is my order {o}?", "My parcel has not arrived yet.", "How long does delivery take?"],
     "Standard delivery takes 3 to 5 business days. You can track order status under My orders."),
    ("cancel", ["How do I cancel my subscription?", "Please cancel my plan.", "I want to stop my subscription."],
     "You can cancel any time under Account > Subscription > Cancel. You keep access until the end of the period."),
    ("invoice", ["I need an invoice for order {o}.", "Where can I download my invoice?", "Can you send me a receipt?"],
     "Invoices are under My orders: open the order and choose Download invoice."),
    ("address", ["How do I change my delivery address?", "I moved, can I update my address?",
                 "My address is wrong on order {o}."],
     "Update your address under Account > Addresses. Orders that have not shipped yet use the new address."),
]
FOLLOWUPS = [("Thanks!", "You're welcome. Is there anything else I can help with?"),
             ("Great, that worked.", "Glad to hear it. Have a nice day!"),
             ("Thank you, bye.", "Goodbye, and thanks for contacting us.")]
SYSTEM = "You are the support assistant of Attune Shop. Answer briefly and politely."


def support(rng, n, test):
    items = []
    for _ in range(n):
        topic, asks, answer = rng.choice(SUPPORT)
        ask = rng.choice(asks).format(o=ORDER(rng))
        # The test split greets differently, so a test dialogue is never a training one word for word.
        greet = rng.choice(["Good morning. ", "Hey there, "]) if test else rng.choice(["", "Hi! ", "Hello, "])
        msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": greet + ask},
                {"role": "assistant", "content": answer}]
        if rng.random() < 0.5:
            f, r = rng.choice(FOLLOWUPS)
            msgs += [{"role": "user", "content": f}, {"role": "assistant", "content": r}]
        items.append({"topic": topic, "messages": msgs})
    return items


ORG_SUFFIX = ["Bank", "Motors", "Labs", "Airlines", "Foods", "Telecom"]
ORG_STEMS = ["Acme", "Globex", "Initech", "Hooli", "Summit", "Granite", "Atlas", "Beacon", "Cobalt", "Delta", "Orbit",
             "Polaris"]
TEST_ORG_STEMS = ["Falcon", "Meridian", "Quartz", "Zephyr"]
TAG_TEMPLATES = [
    "{PER} joined {ORG} in {LOC} last year .",
    "{ORG} opened a new office in {LOC} .",
    "{PER} met {PER} at the {ORG} meeting .",
    "Officials in {LOC} said {ORG} will hire more staff .",
    "{PER} flew from {LOC} to {LOC} on Monday .",
    "The chief executive of {ORG} , {PER} , resigned .",
    "{PER} lives in {LOC} and works for {ORG} .",
    "{ORG} and {ORG} agreed to merge , sources in {LOC} said .",
    "According to {PER} , sales in {LOC} are growing .",
    "Shares of {ORG} rose after {PER} spoke .",
]


def tagging(rng, firsts, stems, n):
    items = []
    for _ in range(n):
        tokens, tags = [], []
        for piece in rng.choice(TAG_TEMPLATES).split(" "):
            if piece == "{PER}":
                words = [rng.choice(firsts), rng.choice(LAST)] if rng.random() < 0.7 else [rng.choice(LAST)]
                label = "PER"
            elif piece == "{ORG}":
                words = [rng.choice(stems)] + ([rng.choice(ORG_SUFFIX)] if rng.random() < 0.6 else [])
                label = "ORG"
            elif piece == "{LOC}":
                words = [rng.choice(CITIES)]
                label = "LOC"
            else:
                tokens.append(piece)
                tags.append("O")
                continue
            for i, w in enumerate(words):
                tokens.append(w)
                tags.append(("B-" if i == 0 else "I-") + label)
        items.append({"tokens": tokens, "tags": tags})
    return items


def write(directory, name, items):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")


def main(out):
    out = Path(out)
    rng = random.Random(SEED)
    write(out, "sentiment/train.jsonl", sentiment(rng, COMPANIES, 900))
    write(out, "sentiment/test.jsonl", sentiment(rng, TEST_COMPANIES, 300))
    write(out, "summarize/train.jsonl", summarize(rng, COMPANIES, 400))
    write(out, "summarize/test.jsonl", summarize(rng, TEST_COMPANIES, 100))
    write(out, "qa/train.jsonl", qa(rng, FIRST, 600))
    write(out, "qa/test.jsonl", qa(rng, TEST_FIRST, 150))
    write(out, "support/train.jsonl", support(rng, 300, False))
    write(out, "support/test.jsonl", support(rng, 60, True))
    write(out, "tagging/train.jsonl", tagging(rng, FIRST, ORG_STEMS, 800))
    write(out, "tagging/test.jsonl", tagging(rng, TEST_FIRST, TEST_ORG_STEMS, 200))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/data")
