# ruff: noqa: E501  (demo copy is easier to read and edit one story per line)
"""Load a believable demo newsroom: sections, authors, 42 articles, demo logins.

Idempotent: everything is keyed by slug or email, and anything that already
exists is left alone, so running it twice creates nothing new. All text here
is written for this demo; the people and places are fictional.

The passwords printed at the end are DEMO-ONLY: never run this command
against a production database.
"""

from __future__ import annotations

import random
from datetime import timedelta
from io import BytesIO

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw

from articles.models import Article, Author, Category, Comment, Page, Tag
from newsroom import dev_stripe
from subscriptions.models import ComplimentaryAccess

# --- Demo logins (demo-only passwords, documented in README.md) ---------------
ADMIN = ("admin@ledger.example", "ledger-admin-demo")
EDITOR = ("editor@ledger.example", "ledger-editor-demo")
WRITER = ("writer@ledger.example", "ledger-writer-demo")
DEMO_TOPICS = ["Public money", "Accountability", "Climate", "Housing"]
SUBSCRIBER = ("reader@ledger.example", "ledger-reader-demo")
COMMENTERS = [
    ("reader@ledger.example", "ledger-reader-demo", "Ruth", "Calloway"),
    ("hank@ledger.example", "ledger-reader-demo", "Hank", "Osei"),
    ("mira@ledger.example", "ledger-reader-demo", "Mira", "Lindqvist"),
]
# A reader without a subscription who signed up for the emails: gets the teaser editions.
FREE_READER = ("free@ledger.example", "ledger-reader-demo", "Frances", "Ng")

CATEGORIES = [
    ("Defense", "The armed forces, the budget that pays for them and the industry that equips them.", "#1d3557", "#457b9d"),
    ("Foreign Policy", "Diplomacy, alliances, sanctions and the people who negotiate them.", "#3d405b", "#81b29a"),
    ("Politics", "Congress, statehouses, campaigns and the rules of the game.", "#6a040f", "#d00000"),
    ("Veterans", "Care, benefits and second careers for those who served.", "#283618", "#606c38"),
    ("Technology", "Chips, cables, code and the security of all three.", "#03045e", "#00b4d8"),
    ("Culture", "Books, film, music and the towns that grow up around bases.", "#5f0f40", "#e36414"),
]  # fmt: skip

AUTHORS = [
    ("Margaret Hale", "Defense correspondent", "#264653",
     "Margaret Hale has covered the Pentagon, the shipyards and the budget fights between them for fourteen "
     "years. She spent two winters embedded with Army units in northern Europe."),
    ("Tomás Reyes", "Diplomatic editor", "#2a9d8f",
     "Tomás Reyes reports on alliances and the negotiations that hold them together. He was previously a "
     "correspondent in Brussels and Manila."),
    ("Priya Natarajan", "Political reporter", "#9b2226",
     "Priya Natarajan follows Congress and the statehouses, with a particular eye on where the money comes "
     "from. She grew up in a county clerk’s office, more or less."),
    ("Walt Brennan", "Veterans affairs writer", "#606c38",
     "Walt Brennan served eight years in the Marine Corps before turning to reporting. He writes about "
     "benefits, health care and life after the service."),
    ("June Okafor", "Technology and culture editor", "#7b2cbf",
     "June Okafor writes about the machines and networks modern security depends on, and about the books, "
     "films and music that try to make sense of it."),
]  # fmt: skip

# How each demo author's portrait is drawn (see `portrait`): skin, hair, hair style, clothes.
LOOKS = {
    "Margaret Hale": ("#e8c4a8", "#8a8f96", "bob", "#f2efe8"),
    "Tomás Reyes": ("#c89472", "#2b211c", "short", "#1f2d3d"),
    "Priya Natarajan": ("#a8714f", "#1c1412", "long", "#e9c46a"),
    "Walt Brennan": ("#f0cfb4", "#c9c3b8", "cropped", "#3d4a2a"),
    "June Okafor": ("#6e4630", "#17110e", "curly", "#f4a261"),
}

# (title, standfirst, topic phrase). Seven per section, in CATEGORIES order.
STORIES = {
    "Defense": [
        ("Navy’s new frigate program slips another year as shipyard struggles to hire welders",
         "The first ship was due in the water by now. A labor shortage on the Great Lakes is only part of the reason it is not.",
         "the frigate program"),
        ("Inside the Army’s quiet rethink of how many drones a squad should carry",
         "Field tests suggest small units can manage more aircraft than planners assumed — and fewer batteries than they need.",
         "squad-level drones"),
        ("Auditors flag $2.1 billion in spare parts nobody can locate",
         "The parts were bought, paid for and logged. Where they went after that is a question the services cannot yet answer.",
         "the missing spare parts"),
        ("Air Guard units in three states told to expect longer overseas rotations",
         "Employers and families are bracing for deployments that stretch past the traditional six months.",
         "longer Guard rotations"),
        ("Munitions plants race to restart lines that sat idle for two decades",
         "Old tooling, retired engineers and new money: how the ammunition base is trying to wake up.",
         "the munitions restart"),
        ("What a week aboard a destroyer taught us about sailor fatigue",
         "Watch schedules have changed since a run of collisions. Crews say the sleep has not caught up.",
         "sailor fatigue"),
        ("Space Force wants commercial satellites on call in a crisis. The contracts lag behind.",
         "Companies say they are ready to help. The paperwork that would let them is still being written.",
         "commercial satellite reserves"),
    ],
    "Foreign Policy": [
        ("Allies weigh a shared fund for rebuilding Black Sea ports",
         "Finance ministers are circling a number. Who controls the money is the harder conversation.",
         "the port reconstruction fund"),
        ("The envoy who keeps showing up: a portrait of a patient negotiator",
         "She rarely speaks in public and never on the record. Colleagues say that is exactly why talks keep moving.",
         "quiet diplomacy"),
        ("Trade talks with Southeast Asian partners stall over fishing rights",
         "A dispute about trawlers and territorial waters has held up an agreement both sides say they want.",
         "the fishing-rights dispute"),
        ("Embassy staffing gaps leave visa lines months long in key capitals",
         "Students, engineers and families are waiting. Consular officers say they cannot hire fast enough.",
         "consular staffing"),
        ("Why Arctic shipping lanes are now a diplomatic problem, not just a climate one",
         "Melting ice has opened routes that nobody fully agrees on how to govern.",
         "Arctic shipping"),
        ("Sanctions tighten, but the loopholes move faster",
         "Shell companies, reflagged tankers and third-country traders are keeping banned goods on the move.",
         "sanctions enforcement"),
        ("A summit’s fine print: what the joint statement does not say",
         "Read closely, the communiqué tells you as much about the disagreements as the handshakes.",
         "the summit communiqué"),
    ],
    "Politics": [
        ("Budget deal keeps the lights on but punts the hard choices to spring",
         "Leaders avoided a shutdown. The fights over defense and domestic spending are merely postponed.",
         "the stopgap budget"),
        ("Statehouse races draw record money from out-of-state donors",
         "Filings show contributions flowing into legislative contests that once ran on bake sales.",
         "statehouse fundraising"),
        ("Redistricting fight heads to a state supreme court for the third time",
         "Maps drawn, struck down and redrawn: voters in the middle still are not sure which district they live in.",
         "the redistricting case"),
        ("Senate committee advances bill to overhaul military housing oversight",
         "Years of complaints about mold and slow repairs produced a rare bipartisan vote.",
         "military housing oversight"),
        ("Mayors push Washington for faster disaster aid payouts",
         "Cities hit by floods and fires say the money arrives long after the bills come due.",
         "disaster aid delays"),
        ("The quiet power of the House Rules Committee, explained",
         "Nine members decide which amendments get a vote. Here is how that shapes nearly every bill.",
         "the Rules Committee"),
        ("Voter rolls, lawsuits and a county clerk caught in the middle",
         "A small office with a tiny budget has become the front line of a national argument.",
         "voter-roll maintenance"),
    ],
    "Veterans": [
        ("VA clinic wait times drop in rural counties after tele-health push",
         "Video appointments have cut the drive for thousands of patients. Broadband gaps remain.",
         "rural tele-health"),
        ("A Marine, a welding torch and a second career built in a garage",
         "After two deployments he wanted work with his hands. Now he employs six other veterans.",
         "veteran-owned small business"),
        ("Toxic-exposure claims surge as the new law’s deadlines approach",
         "Processing centers are working overtime. Advocates urge veterans not to wait for the last week.",
         "toxic-exposure claims"),
        ("Veterans’ service posts struggle to recruit a younger generation",
         "Halls that once hosted packed Friday dinners are looking for new reasons to open the doors.",
         "service-post membership"),
        ("How one county court keeps veterans out of jail and in treatment",
         "A judge, a mentor program and a lot of patience have changed outcomes in a single courtroom.",
         "the veterans treatment court"),
        ("GI Bill students say schools still bungle their paperwork",
         "Late certifications mean late housing payments. Some students are choosing between rent and class.",
         "GI Bill processing"),
        ("Caregivers of wounded veterans ask for more than a stipend",
         "Spouses and parents who provide daily care describe isolation as the hardest part of the job.",
         "family caregivers"),
    ],
    "Technology": [
        ("The chip plant next door: a small town bets on semiconductors",
         "A fabrication plant promises thousands of jobs. Residents are asking about water, roads and housing first.",
         "the new chip plant"),
        ("Why the Army still runs software older than its newest recruits",
         "Replacing legacy systems is slower and riskier than anyone likes to admit.",
         "legacy military software"),
        ("AI tools arrive in intelligence shops, along with new rules for using them",
         "Analysts say the software saves hours. Supervisors want to know exactly which hours.",
         "AI in intelligence analysis"),
        ("Undersea cables are the internet’s weak spot. Repair ships are scarce.",
         "A handful of vessels maintain the world’s data links, and most of their crews are nearing retirement.",
         "undersea cable repair"),
        ("A hacker group targeted small water utilities. Here is what the logs show.",
         "Default passwords and internet-facing control panels made the job easy. Fixing them is cheap but slow.",
         "water-utility security"),
        ("Battery makers scramble for minerals as demand outpaces mines",
         "New mines take a decade to open. Recycling and new chemistries are being asked to fill the gap.",
         "battery supply chains"),
        ("Satellite phones for everyone? The promise and the fine print",
         "Direct-to-phone satellite service works — in the right place, for short messages, with patience.",
         "satellite-to-phone service"),
    ],
    "Culture": [
        ("A war novel that refuses to pick a side becomes an unlikely bestseller",
         "The author spent six years writing it. Readers on both ends of the argument claim it as theirs.",
         "the bestselling war novel"),
        ("Military bands are shrinking. Their musicians say something is lost.",
         "Budget cuts have silenced ensembles that played parades, funerals and school gyms for a century.",
         "military bands"),
        ("The documentary that took ten years and three edits to finish",
         "A filmmaker followed one infantry company from training to reunion. Cutting it down was the hard part.",
         "the documentary"),
        ("Base towns reinvent their main streets after the troops move on",
         "When a base shrinks, the barber shops and diners feel it first. Some towns have found a second act.",
         "base-town main streets"),
        ("Letters home: a museum collects a century of soldiers’ mail",
         "Curators have gathered more than twelve thousand letters, and they are still arriving by the box.",
         "the letters collection"),
        ("A chef who cooked for generals now runs a diner for everyone",
         "Her menu still has the chipped beef. The prices, she says, are friendlier than the mess hall’s.",
         "the diner"),
        ("Review: an old anti-war play feels uncomfortably current",
         "A spare new staging trusts the text and its actors. It does not let the audience off easy.",
         "the revival"),
    ],
}  # fmt: skip

PLACES = {
    "Defense": ["Norfolk", "Marinette", "Fort Carson", "Scranton", "San Diego", "Colorado Springs"],
    "Foreign Policy": ["Brussels", "Odesa", "Jakarta", "Manila", "Tromsø", "Geneva"],
    "Politics": ["Capitol Hill", "Harrisburg", "Raleigh", "Phoenix", "Madison", "Columbus"],
    "Veterans": ["Bozeman", "Tulsa", "Fayetteville", "Killeen", "Spokane", "Augusta"],
    "Technology": ["Albany", "Huntsville", "Reston", "Portland", "Chandler", "Baltimore"],
    "Culture": ["Nashville", "Savannah", "Lawton", "Dayton", "Providence", "Santa Fe"],
}
FIRST = ["Carla", "Dev", "Ellen", "Marcus", "Ines", "Ray", "Talia", "Owen", "Gloria", "Nate", "Soo-jin", "Felix"]
LAST = ["Whitaker", "Mendes", "Achterberg", "Lund", "Baptiste", "Kowalski", "Farouk", "Delacroix", "Hollis", "Tran"]
ROLES = [
    "a program manager who has worked on the effort since its start",
    "a former official who now advises several committees",
    "a researcher who has studied the question for a decade",
    "a local organizer who has watched the change up close",
    "a senior staff member who asked that their agency not be named",
    "an analyst at an independent budget watchdog",
]

OPENINGS = [
    "In {place}, the people closest to {topic} describe the same thing in different words: a plan that looked "
    "sensible on paper and has turned out to be much harder in practice. Few of them are surprised. Most of them "
    "are tired.",
    "For most of the past year, {topic} has lived in the background — mentioned in hearings, noted in reports, "
    "rarely argued about in public. That changed this autumn, when a series of decisions in {place} forced the "
    "issue into the open.",
    "The numbers tell part of the story. The rest of it comes from the people in {place} who have spent months "
    "working on {topic}, and who say the official version leaves out the parts that matter most.",
]
CONTEXT = [
    "Officials first promised progress on {topic} {n} years ago. Since then, budgets have been approved, "
    "revised and approved again, and the timeline has moved to the right more than once. Each delay had a "
    "reason. Together, they have added up to a pattern.",
    "The underlying problem is not new. What has changed is the pressure: more demand, less slack, and a "
    "growing list of people who depend on {topic} working the first time. Planners who once had years to "
    "adjust now have months.",
    "Records reviewed by The Ledger show that at least {n} separate reviews have examined {topic} since it "
    "began. Most reached similar conclusions. Few of their recommendations were carried out in full.",
]
QUOTE_INTRO = [
    "“We knew it would be difficult,” said {person}, {role}. “What we underestimated was how many small "
    "things had to go right at the same time.”",
    "{person}, {role}, put it more bluntly. “Everybody agrees on the goal,” {pronoun} said. “Nobody agrees "
    "on who pays for the next step.”",
    "“There is a version of this that works,” said {person}, {role}. “We are not in that version yet, but "
    "we are closer than the critics think.”",
]
PULL_QUOTES = [
    "> “The hard part was never the idea. The hard part is the Tuesday afternoon when something breaks.”",
    "> “Everybody wants it done. Very few people want to be the one who signs for it.”",
    "> “You can measure the cost. What you cannot easily measure is what happens if we do nothing.”",
    "> “People here are not asking for miracles. They are asking for a date they can believe.”",
]
SUBHEADS = ["## What changed", "## The money question", "## On the ground", "## What comes next", "## A second look"]
DETAILS = [
    "In interviews, more than a dozen people involved in {topic} described long meetings, shifting "
    "requirements and a shortage of the specialists who actually do the work. Several said the problems were "
    "visible early, and that raising them carried a cost of its own.",
    "A spokesperson said the organization was “committed to transparency” and pointed to a recent update "
    "showing improvement on {n} of its main measures. The same update showed slippage on several others.",
    "Outside experts caution against reading too much into any single month. Programs like this tend to look "
    "worst in the middle, they note, when spending is high and the benefits have not yet arrived.",
    "Local reaction in {place} has been mixed. Some residents see opportunity; others see another promise "
    "that will be renegotiated once attention moves elsewhere. Both groups say they want clearer answers.",
]
COUNTER = [
    "Not everyone accepts that account. Critics argue that the difficulties with {topic} were predictable and "
    "that the people now asking for patience were warned, in writing, years ago.",
    "Supporters counter that the alternatives are worse. Walking away now, they say, would waste what has "
    "already been spent and leave the underlying need exactly where it was.",
]
CLOSINGS = [
    "The next milestone is expected in the spring. Whether it arrives on time will say a good deal about "
    "whether the recent changes are real, or simply a new way of describing the same delays.",
    "For now, the people in {place} are doing what they have done for months: keeping the work going, "
    "keeping notes, and waiting to see whether the decisions made far away will match the ones made on the ground.",
    "{person} said {pronoun} remained cautiously hopeful. “Ask me again in six months,” {pronoun} said. "
    "“Then we will know whether anyone was listening.”",
]


def _hex(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def hero_image(c1: str, c2: str, seed: int) -> bytes:
    """A 1600x900 gradient with a few shapes: an abstract stand-in photo. No words on it — cards
    and captions carry the headline, and a picture that repeats it looks machine-made."""
    rng = random.Random(seed)
    width, height = 1600, 900
    mask = Image.linear_gradient("L").rotate(rng.choice([0, 45, 90, 135]), expand=False).resize((width, height))
    img = Image.composite(
        Image.new("RGB", (width, height), _hex(c1)), Image.new("RGB", (width, height), _hex(c2)), mask
    )
    draw = ImageDraw.Draw(img, "RGBA")
    for _ in range(rng.randint(5, 9)):
        x, y, r = rng.randint(0, width), rng.randint(0, height), rng.randint(60, 320)
        shade = (255, 255, 255, rng.randint(18, 60)) if rng.random() < 0.6 else (0, 0, 0, rng.randint(18, 50))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=shade)
    for i in range(0, width, rng.choice([40, 60, 80])):  # a horizon of 'buildings'
        h = rng.randint(60, 260)
        draw.rectangle((i, height - h, i + rng.randint(24, 56), height), fill=(0, 0, 0, 70))
    buffer = BytesIO()
    img.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, round(c * factor))) for c in rgb)  # type: ignore[return-value]


def portrait(color: str, look: tuple[str, str, str, str], size: int = 400) -> bytes:
    """A flat, friendly head-and-shoulders illustration on the author's colour: a stand-in
    for a staff photo, drawn here so the demo downloads nothing and shows no real person.
    Drawn at twice the size and scaled down, which smooths the edges."""
    skin_hex, hair_hex, style, clothes_hex = look
    width = size * 2
    k = width / 800  # the shapes below are laid out on an 800-pixel square

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * k, y0 * k, x1 * k, y1 * k)

    background, skin, hair, clothes = _hex(color), _hex(skin_hex), _hex(hair_hex), _hex(clothes_hex)
    img = Image.new("RGB", (width, width), background)
    draw = ImageDraw.Draw(img)
    draw.ellipse(box(-200, -260, 1000, 700), fill=_shade(background, 1.18))  # soft light behind the head
    if style == "long":
        draw.rounded_rectangle(box(230, 190, 570, 700), radius=150 * k, fill=hair)
    if style == "curly":
        for cx, cy, r in [(260, 300, 80), (540, 300, 80), (250, 420, 70), (550, 420, 70), (300, 210, 90), (500, 210, 90), (400, 180, 100)]:
            draw.ellipse(box(cx - r, cy - r, cx + r, cy + r), fill=hair)
    draw.ellipse(box(70, 560, 730, 1220), fill=clothes)  # shoulders
    draw.rectangle(box(348, 440, 452, 600), fill=_shade(skin, 0.88))  # neck
    draw.polygon([(325 * k, 575 * k), (475 * k, 575 * k), (400 * k, 690 * k)], fill=_shade(skin, 0.88))  # open collar
    draw.ellipse(box(262, 330, 312, 410), fill=_shade(skin, 0.93))  # ears
    draw.ellipse(box(488, 330, 538, 410), fill=_shade(skin, 0.93))
    draw.ellipse(box(280, 200, 520, 490), fill=skin)  # face
    if style in ("short", "cropped", "bob", "long"):
        top = {"short": 170, "cropped": 190, "bob": 172, "long": 172}[style]
        tilt = 12 if style == "short" else 0  # a side parting
        draw.chord(box(272, top, 528, 420), 180 - tilt, 360 + tilt // 2, fill=hair)
    if style == "bob":
        draw.rounded_rectangle(box(258, 215, 322, 470), radius=32 * k, fill=hair)
        draw.rounded_rectangle(box(478, 215, 542, 470), radius=32 * k, fill=hair)
    if style == "curly":
        draw.chord(box(276, 190, 524, 400), 180, 360, fill=hair)
    eyes = _shade(hair if style != "cropped" else (40, 35, 30), 0.9)
    draw.ellipse(box(345, 345, 367, 367), fill=eyes)
    draw.ellipse(box(433, 345, 455, 367), fill=eyes)
    draw.arc(box(365, 380, 435, 435), 20, 160, fill=_shade(skin, 0.6), width=round(7 * k))  # a small smile
    buffer = BytesIO()
    img.resize((size, size), Image.LANCZOS).save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def article_body(rng: random.Random, topic: str, place: str) -> str:
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    pronoun = rng.choice(["she", "he"])
    fill = {
        "topic": topic, "place": place, "person": person, "role": rng.choice(ROLES),
        "pronoun": pronoun, "n": rng.choice(["three", "four", "five", "six", "seven"]),
    }  # fmt: skip
    details = rng.sample(DETAILS, 3)
    parts = [
        rng.choice(OPENINGS),
        rng.choice(CONTEXT),
        rng.choice(QUOTE_INTRO),
        details[0],
    ]
    if rng.random() < 0.6:
        parts.append(rng.choice(SUBHEADS))
    parts += [details[1], rng.choice(PULL_QUOTES), rng.choice(COUNTER), details[2]]
    if rng.random() < 0.4:
        parts.append(rng.choice(SUBHEADS))
    parts.append(rng.choice(CLOSINGS))
    text = "\n\n".join(parts).format(**fill)
    # Capitalise a sentence that starts with the topic phrase.
    return "\n\n".join(p[0].upper() + p[1:] if p and p[0].islower() else p for p in text.split("\n\n"))


# The desk's pages about itself (articles.Page): the demo's own words, for editors to rewrite.
PAGES = {
    Page.Slug.ABOUT: (
        "About The Ledger",
        "The Ledger is an independent newsroom covering defense, foreign policy, politics, veterans, technology and culture. "
        "We are paid for by our readers: subscriptions, not owners or advertisers, keep the lights on, and no advertiser sees a story before you do.\n\n"
        "## Our principles\n\n"
        "- We say how we know what we report, and name our sources unless naming them would put someone at risk.\n"
        "- We ask the people we write about for their side before we publish.\n"
        "- We keep news and opinion apart, and label opinion as such.\n"
        "- We correct our mistakes in the open (see our [corrections policy](/corrections/)).\n\n"
        "## The masthead\n\n"
        "- **Editor-in-chief:** Dana Whitfield\n"
        "- **Managing editor:** Samuel Okafor\n"
        "- **Defense and foreign policy:** Marisol Vega, Tomas Lindqvist\n"
        "- **Politics:** Priya Raman\n"
        "- **Standards editor:** Helen Marsh\n\n"
        "The people named here are the demo newsroom's, not real journalists.",
    ),
    Page.Slug.CONTACT: (
        "Contact us",
        "**Story tips:** tips@ledger.example. If what you know could put you at risk, say so in your first message and we will suggest a safer way to talk.\n\n"
        "**Corrections:** corrections@ledger.example, with the story's web address and what is wrong.\n\n"
        "**Subscriptions and accounts:** help@ledger.example. We answer on weekdays, usually within a day.\n\n"
        "**Letters to the editor:** letters@ledger.example. We may edit letters for length.",
    ),
    Page.Slug.CORRECTIONS: (
        "Corrections policy",
        "We want to get things right, and when we do not, to say so plainly.\n\n"
        "When a story contains a factual error we fix it as soon as we have checked it, and add a correction at the foot of the story saying what was wrong and when we changed it. "
        "We do not quietly rewrite published facts.\n\n"
        "Small fixes that change no meaning (a typo, a broken link) are made without a note. "
        "Updates that add new information are marked as updates, not corrections.\n\n"
        "To report an error, write to corrections@ledger.example. Our standards editor reads every message.",
    ),
    Page.Slug.PRIVACY: (
        "Privacy policy",
        "We collect as little about you as we can, and we do not sell it.\n\n"
        "## What we keep\n\n"
        "- **Your account:** your email address, your name if you give it, and a scrambled form of your password.\n"
        "- **The free digest:** if you sign up with your email alone, the address, when you asked, when you confirmed, and the words you agreed to.\n"
        "- **Your subscription:** our payment provider, Stripe, holds your card; we keep only what we need to know you have paid.\n"
        "- **Free articles:** a count of the free articles you read today, kept for a day.\n\n"
        "## What we do not do\n\n"
        "We do not sell or rent your address, and we do not let advertisers follow you around our pages.\n\n"
        "## Leaving\n\n"
        "Every email has a link to stop it. You can delete your account from your account page, or ask help@ledger.example to delete your digest sign-up.",
    ),
    Page.Slug.TERMS: (
        "Terms of use",
        "By reading The Ledger or creating an account you agree to these terms.\n\n"
        "- Our stories are ours: quote them briefly with a link, but do not republish them whole without asking.\n"
        "- A subscription is for one person. Gift links are for sharing a story with a friend, not a crowd.\n"
        "- Comments must be civil and on topic; we remove what is not and may close accounts that keep at it.\n"
        "- You can cancel a subscription at any time; it runs to the end of the period you have paid for.\n\n"
        "These are the demo newsroom's terms, written for this demo.",
    ),
}


class Command(BaseCommand):
    help = "Load a demo newsroom (sections, authors, articles, comments) and demo logins. Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        now = timezone.now()
        created = {"articles": 0, "authors": 0, "categories": 0, "users": 0, "comments": 0, "pages": 0}
        for slug, (title, body) in PAGES.items():
            if not Page.objects.filter(slug=slug).exists():  # an editor's rewrite is never overwritten
                Page.objects.create(slug=slug, title=title, body=body)
                created["pages"] += 1

        categories: dict[str, tuple[Category, str, str]] = {}
        for position, (name, description, c1, c2) in enumerate(CATEGORIES):
            category, made = Category.objects.get_or_create(
                slug=slugify(name), defaults={"name": name, "description": description, "position": position}
            )
            created["categories"] += made
            categories[name] = (category, c1, c2)

        authors: list[Author] = []
        for name, role, color, bio in AUTHORS:
            slug = slugify(name)
            author = Author.objects.filter(slug=slug).first()
            if author is None:
                author = Author(name=name, slug=slug, role=role, bio=bio)
                created["authors"] += 1
            if not author.photo:  # a demo author made before portraits, or new; a photo an editor chose stays
                author.photo.save(f"{slug}.jpg", ContentFile(portrait(color, LOOKS[name])), save=False)
                author.save()
            authors.append(author)
        # Which desk writes which section (index into AUTHORS).
        desk = {"Defense": 0, "Foreign Policy": 1, "Politics": 2, "Veterans": 3, "Technology": 4, "Culture": 4}

        articles: list[Article] = []
        for cat_index, (cat_name, stories) in enumerate(STORIES.items()):
            category, c1, c2 = categories[cat_name]
            for i, (title, standfirst, topic) in enumerate(stories):
                # Interleave sections in time, so the front page mixes them like a real day's news.
                step = 1 + i * len(STORIES) + cat_index
                slug = slugify(title)[:200]
                existing = Article.objects.filter(slug=slug).first()
                if existing is not None:
                    articles.append(existing)
                    continue
                rng = random.Random(slug)
                place = rng.choice(PLACES[cat_name])
                access = Article.Access.METERED
                if i == 0:
                    access = Article.Access.FREE
                elif i in (3, 5):
                    access = Article.Access.SUBSCRIBERS
                status, publish_at = Article.Status.PUBLISHED, now - timedelta(hours=5 * step + rng.randint(0, 4))
                if cat_name == "Politics" and i == 0:
                    status, publish_at = Article.Status.SCHEDULED, now + timedelta(days=2)
                if cat_name == "Culture" and i == 6:
                    status = Article.Status.DRAFT
                article = Article(
                    title=title,
                    slug=slug,
                    standfirst=standfirst,
                    body=article_body(rng, topic, place),
                    category=category,
                    access=access,
                    status=status,
                    publish_at=publish_at,
                    hero_alt=f"Illustration for {cat_name}: {topic}",
                    hero_caption=f"{place}, at the center of the debate over {topic}.",
                    hero_credit="Illustration: The Ledger demo desk",
                )
                article.hero_image.save(f"{slug[:60]}.jpg", ContentFile(hero_image(c1, c2, seed=step)), save=False)
                article.save()
                lead = authors[desk[cat_name]]
                team = [lead]
                if i == 2:  # the occasional shared byline
                    team.append(authors[(desk[cat_name] + 1) % len(authors)])
                article.authors.set(team)
                # Topics across sections: every story gets one of a few, by its position in its section.
                name = DEMO_TOPICS[i % len(DEMO_TOPICS)]
                topic_tag, _ = Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name})
                article.tags.add(topic_tag)
                articles.append(article)
                created["articles"] += 1

        users = self._users(now, created)
        self._comments(articles, users, now, created)
        self._email_choices(users, created)
        if not Article.objects.filter(send_as_email=True).exists():
            # One story marked "send as email", so the first `send_newsletter` shows a breaking email.
            live = [a for a in articles if a.is_live and a.access == Article.Access.METERED]
            if live:
                Article.objects.filter(pk=live[0].pk).update(send_as_email=True)

        self.stdout.write(
            self.style.SUCCESS(
                "Demo newsroom ready: "
                + ", ".join(f"{count} new {what}" for what, count in created.items())
                + f" ({Article.objects.count()} articles in total)."
            )
        )
        self.stdout.write("\nDemo logins (DEMO ONLY — never use these passwords in production):")
        self.stdout.write(f"  Admin (superuser):       {ADMIN[0]:<26} password: {ADMIN[1]}")
        self.stdout.write(f"  Editor (Editors group):  {EDITOR[0]:<26} password: {EDITOR[1]}")
        self.stdout.write(f"  Writer (Writers group):  {WRITER[0]:<26} password: {WRITER[1]}")
        self.stdout.write(f"  Subscriber (comp, 1 yr): {SUBSCRIBER[0]:<26} password: {SUBSCRIBER[1]}")
        self.stdout.write(f"  Free reader (emails):    {FREE_READER[0]:<26} password: {FREE_READER[1]}")
        self.stdout.write("  Admin site: http://127.0.0.1:8000/admin/  ·  Site: http://127.0.0.1:8000/\n")
        if dev_stripe.is_local(settings.STRIPE_API_BASE) and settings.STRIPE_SECRET_KEY:
            self.stdout.write(
                "Subscribe locally (no real money): log in as the free reader, open /subscribe/, pick a plan and\n"
                "press 'Pay with 4242 4242 4242 4242' on the local test Checkout; you come back a subscriber.\n"
            )

    def _user(self, email: str, password: str, created: dict, **extra):
        User = get_user_model()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User(username=email.split("@")[0] + "-demo", email=email, **extra)
            user.set_password(password)
            user.save()
            created["users"] += 1
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user

    def _users(self, now, created: dict) -> list:
        self._user(ADMIN[0], ADMIN[1], created, is_staff=True, is_superuser=True, first_name="Demo", last_name="Admin")
        editor = self._user(EDITOR[0], EDITOR[1], created, is_staff=True, first_name="Demo", last_name="Editor")
        editor.groups.add(Group.objects.get(name="Editors"))
        writer = self._user(WRITER[0], WRITER[1], created, is_staff=True, first_name="Demo", last_name="Writer")
        writer.groups.add(Group.objects.get(name="Writers"))
        if not Author.objects.filter(user=writer).exists():
            # The writer writes as one of the demo bylines, so "their own" stories exist to edit.
            Author.objects.filter(pk__in=Author.objects.filter(user=None).order_by("name")[:1]).update(user=writer)
        readers = []
        for email, password, first, last in COMMENTERS:
            reader = self._user(email, password, created, first_name=first, last_name=last)
            if not ComplimentaryAccess.objects.filter(user=reader, note="Demo subscriber").exists():
                ComplimentaryAccess.objects.create(user=reader, until=now + timedelta(days=365), note="Demo subscriber")
            readers.append(reader)
        return readers

    def _email_choices(self, readers: list, created: dict) -> None:
        """Demo readers take the daily digest and breaking news, so the first run shows the emails.

        The newsletter app sits above this one (it imports articles), so its model is looked up by name."""
        if not apps.is_installed("newsletter"):
            return
        Preference = apps.get_model("newsletter", "Preference")
        free = self._user(FREE_READER[0], FREE_READER[1], created, first_name=FREE_READER[2], last_name=FREE_READER[3])
        for reader in [*readers, free]:
            Preference.objects.get_or_create(user=reader, defaults={"digest": True, "breaking": True})

    def _comments(self, articles: list[Article], readers: list, now, created: dict) -> None:
        live = [a for a in articles if a.is_live]
        threads = [
            (0, "This matches what I heard from people at the yard last month. Thanks for spelling out the "
                "timeline — nobody else has.",
             (1, "Same here. The hiring numbers in the fourth paragraph are the part that worries me most.")),
            (3, "Good reporting. I would like a follow-up on what the families are being told.", None),
            (7, "I worked on something similar years ago. The paperwork always takes longer than the "
                "engineering.", None),
            (12, "Clear and fair. I shared it with my local council member.",
             (2, "Please post if they answer — I am curious whether anyone at that level is tracking this.")),
            (20, "The pull quote says it all, honestly.", None),
        ]  # fmt: skip
        for n, (index, body, reply) in enumerate(threads):
            if index >= len(live):
                continue
            article, author = live[index], readers[n % len(readers)]
            comment = Comment.objects.filter(article=article, user=author, body=body).first()
            if comment is None:
                comment = Comment.objects.create(
                    article=article, user=author, body=body, created_at=now - timedelta(hours=30 - n)
                )
                created["comments"] += 1
            if reply is not None:
                who, text = reply
                if not Comment.objects.filter(article=article, user=readers[who], body=text).exists():
                    Comment.objects.create(
                        article=article, user=readers[who], body=text, parent=comment,
                        created_at=now - timedelta(hours=20 - n),
                    )  # fmt: skip
                    created["comments"] += 1
