"""Build the English text corpus for teacher distillation, deterministically.

Two kinds of sentence:
  * templated in-car / navigation / number / address sentences written here
    (no licence encumbrance), each produced in two forms at once: `raw` as a
    screen would show it (digits, units, abbreviations) and `norm`, the words a
    speaker says. The teacher reads `norm`; the engine's front end must learn
    to turn `raw` into `norm`.
  * ordinary prose: the example sentences of WordNet 3.0 (Debian package
    wordnet-base, WordNet licence: free use with the copyright notice kept;
    see corpus/LICENSE-WordNet.txt). Only digit-free ones are used, so raw == norm.

Output (TSV: id, category, raw, norm): corpus/train.tsv (deterministically
shuffled, so any prefix is a balanced sample) and corpus/heldout.tsv.
"""
import argparse
import os
import random
import re

from training.common.wer import spell_digits, spell_int, spell_ordinal, spell_year

# ---------------------------------------------------------------- word lists
FIRST = ("James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
         "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Paul "
         "Ashley Steven Emily Andrew Donna Kevin Michelle Brian Carol George Amanda Edward Melissa Ronald "
         "Deborah Timothy Stephanie Jason Rebecca Ryan Laura Jacob Helen Gary Sharon Nicholas Cynthia Eric "
         "Kathleen Jonathan Amy Larry Angela Justin Anna Scott Ruth Brandon Brenda Benjamin Pamela Samuel "
         "Nicole Gregory Katherine Alexander Samantha Patrick Christine Frank Emma Raymond Catherine Jack "
         "Olivia Dennis Rachel Jerry Maria Tyler Heather Aaron Diane Jose Julie Adam Joyce Henry Victoria "
         "Nathan Kelly Douglas Christina Peter Lauren Zachary Joan Kyle Evelyn Noah Judith Ethan Megan "
         "Jeremy Andrea Walter Cheryl Christian Hannah Keith Jacqueline Roger Martha Terry Gloria Austin "
         "Teresa Sean Ann Gerald Madison Carl Frances Harold Kathryn Dylan Janice Arthur Jean Lawrence "
         "Abigail Jordan Alice Jesse Judy Bryan Sophia Billy Grace Bruce Denise Gabriel Amber Joe Doris "
         "Logan Marilyn Alan Danielle Juan Beverly Albert Isabella Willie Theresa Elijah Diana Wayne Natalie "
         "Randy Brittany Vincent Charlotte Liam Rose Oliver Chloe Priya Arjun Mei Hiroshi Fatima Omar "
         "Sofia Lucas Mateo Ingrid Lars Aisha Kwame Chen Yuki Diego Elena Ivan Noor Ravi Leila").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
        "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
        "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
        "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
        "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
        "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
        "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster "
        "Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Fisher Vasquez "
        "Simmons Graham Murray Ford Hamilton Fletcher Sharma Okafor Tanaka Schmidt Novak Kowalski Dubois "
        "O'Brien MacDonald Larsen Rossi Weber Khan Singh Ali Nakamura Andersson Fernandes").split()
STREET_NAMES = ("Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Church High Station Mill Victoria "
                "King Queen Bridge Market Chestnut Walnut Spring Sunset River Forest Meadow Highland Madison "
                "Jefferson Lincoln Franklin Jackson Baker Harbor Willow Cherry Birch Ash Spruce Valley Ridge "
                "Prospect Grove Union College Center Broad Water Green Garden Orchard Brook Fairview Lakeview "
                "Riverside Woodland Hawthorn Primrose Kingsway Albert Clarence Wellington Canal Ferry Quarry "
                "Greenwood Northgate Westfield Eastwood Southgate Bayview Cypress Magnolia Aspen Juniper Laurel "
                "Sycamore Poplar Hickory Sherwood Rosewood Clifton Preston Ashford Kensington Marlborough "
                "Brighton Camden Hamilton Lexington Monroe Adams Hudson Delaware Charles Elizabeth Mercer "
                "Cambridge Oxford Regent Sheffield Dover Carlton Thornton Bedford Windsor Chapel Abbey").split()
SUFFIX = [("St", "Street"), ("Ave", "Avenue"), ("Rd", "Road"), ("Blvd", "Boulevard"), ("Dr", "Drive"),
          ("Ln", "Lane"), ("Ct", "Court"), ("Pl", "Place"), ("Way", "Way"), ("Pkwy", "Parkway"),
          ("Ter", "Terrace"), ("Cres", "Crescent"), ("Sq", "Square"), ("Hwy", "Highway"), ("Cl", "Close")]
CITIES = ("Springfield Riverton Fairfield Georgetown Franklin Clinton Greenville Bristol Salem Madison "
          "Ashland Oxford Milford Newport Kingston Dover Burlington Manchester Arlington Chester Lexington "
          "Hudson Jackson Marion Auburn Dayton Lancaster Richmond Clayton Milton Windsor Portland Camden "
          "Bedford Plymouth Hamilton Cambridge Princeton Winchester Sheffield Leeds York Bath Norwich "
          "Brighton Cardiff Glasgow Edinburgh Dublin Boston Denver Seattle Chicago Houston Phoenix Austin "
          "Atlanta Detroit Toronto Ottawa Vancouver Melbourne Sydney Auckland Liverpool Birmingham").split()
PLACES = ["the airport", "the train station", "the nearest gas station", "the nearest charging station",
          "the hospital", "the city center", "the office", "home", "work", "the supermarket", "the hotel",
          "the stadium", "the museum", "the library", "the bus station", "the ferry terminal", "the beach",
          "the university", "the shopping mall", "the car park", "the parking garage", "the pharmacy",
          "the post office", "the school", "the gym", "a coffee shop", "a restaurant nearby", "the bakery",
          "the conference center", "the zoo", "the harbor", "the old town", "the science park", "the dentist"]
POI = ["gas station", "charging station", "parking", "coffee shop", "restaurant", "pharmacy", "hospital",
       "ATM", "supermarket", "hotel", "rest area", "car wash", "bakery", "police station", "pizza place"]
GENRES = ["jazz", "classical music", "rock", "pop", "country music", "the news", "a podcast", "blues",
          "hip hop", "folk music", "something relaxing", "some upbeat music", "soul", "reggae", "an audiobook"]
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = ("January February March April May June July August September October November December").split()
MON_ABBR = [m[:3] for m in MONTHS]
DIRS = ["north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"]
TURNS = ["turn left", "turn right", "keep left", "keep right", "bear left", "bear right", "make a U-turn",
         "turn slightly left", "turn slightly right", "take a sharp left", "take a sharp right", "continue straight",
         "merge left", "merge right"]


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class Gen:
    """Random slot fillers, each returning (raw, spoken)."""

    def __init__(self, rng: random.Random):
        self.r = rng

    def pick(self, seq):
        return self.r.choice(seq)

    def num(self, n: int, comma=True):
        raw = f"{n:,}" if comma else str(n)
        return raw, spell_int(n)

    def dec(self, whole_max=30, places=1):
        w = self.r.randint(0, whole_max)
        f = "".join(str(self.r.randint(0, 9)) for _ in range(places))
        if f.strip("0") == "":
            return str(w), spell_int(w)
        return f"{w}.{f}", f"{spell_int(w)} point {spell_digits(f).replace('oh', 'zero')}"

    def distance(self):
        kind = self.r.random()
        if kind < 0.35:
            n = self.pick([20, 30, 50, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900])
            raw = self.pick([f"{n} m", f"{n}m", f"{n} metres", f"{n} meters"])
            return raw, f"{spell_int(n)} meters"
        if kind < 0.55:
            n = self.pick([50, 100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 2500])
            raw = self.pick([f"{n:,} ft", f"{n:,} feet"])
            return raw, f"{spell_int(n)} feet"
        if kind < 0.75:
            if self.r.random() < 0.5:
                n = self.r.randint(1, 60)
                return self.pick([f"{n} mi", f"{n} miles" if n > 1 else "1 mile"]), spell_int(n) + (" miles" if n > 1 else " mile")
            raw, sp = self.dec(9)
            return self.pick([f"{raw} mi", f"{raw} miles"]), sp + " miles"
        if kind < 0.9:
            if self.r.random() < 0.5:
                n = self.r.randint(1, 120)
                return f"{n} km", spell_int(n) + (" kilometers" if n > 1 else " kilometer")
            raw, sp = self.dec(9)
            return f"{raw} km", sp + " kilometers"
        sp = self.pick(["half a mile", "a quarter of a mile", "a quarter mile", "three quarters of a mile",
                        "a few hundred meters", "one mile", "half a kilometer"])
        return sp, sp

    def street(self, abbrev_p=0.5):
        name = self.pick(STREET_NAMES)
        ab, full = self.pick(SUFFIX)
        if self.r.random() < 0.15:
            d = self.pick(["North", "South", "East", "West"])
            name = f"{d} {name}"
        raw = f"{name} {ab}" if self.r.random() < abbrev_p else f"{name} {full}"
        return raw, f"{name} {full}"

    def road(self):
        k = self.r.random()
        if k < 0.3:
            n = self.r.randint(5, 99)
            return f"I-{n}", f"I {spell_int(n)}"
        if k < 0.5:
            n = self.r.randint(1, 66)
            return f"Route {n}", f"Route {spell_int(n)}"
        if k < 0.7:
            p = self.pick(["A", "M", "B"])
            n = self.r.randint(1, 69)
            return f"the {p}{n}", f"the {p} {spell_int(n)}"
        if k < 0.85:
            n = self.r.randint(1, 101)
            return f"Highway {n}", f"Highway {spell_int(n)}"
        return self.street(0.4)

    def exit(self):
        n = self.r.randint(1, 150)
        letter = self.pick(["", "", "", "A", "B"])
        return f"exit {n}{letter}", f"exit {spell_int(n)}" + (f" {letter}" if letter else "")

    def clock(self, twelve=None):
        h = self.r.randint(0, 23)
        m = self.pick([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55] + [self.r.randint(0, 59)] * 4)
        if twelve is None:
            twelve = self.r.random() < 0.7
        if twelve:
            h12 = h % 12 or 12
            ap = "a.m." if h < 12 else "p.m."
            raw_ap = self.pick(["AM", "am", "a.m."] if h < 12 else ["PM", "pm", "p.m."])
            sp = spell_int(h12) + (" o'clock" if m == 0 and self.r.random() < 0.3 else "" if m == 0 else
                                   (" oh " + spell_int(m) if m < 10 else " " + spell_int(m)))
            return f"{h12}:{m:02d} {raw_ap}", f"{sp} {ap}"
        if m == 0:
            sp = spell_int(h) + " hundred" if h >= 10 else "oh " + spell_int(h) + " hundred" if h else "midnight"
        else:
            hs = spell_int(h) if h >= 10 else ("oh " + spell_int(h) if h else "zero")
            sp = hs + (" oh " + spell_int(m) if m < 10 else " " + spell_int(m))
        return f"{h:02d}:{m:02d}", sp

    def minutes(self):
        n = self.r.randint(1, 59)
        raw = self.pick([f"{n} min", f"{n} minutes" if n > 1 else "1 minute", f"{n} mins" if n > 1 else "1 min"])
        return raw, spell_int(n) + (" minutes" if n > 1 else " minute")

    def duration(self):
        if self.r.random() < 0.6:
            return self.minutes()
        h = self.r.randint(1, 9)
        m = self.r.randint(1, 59)
        return f"{h} h {m} min", f"{spell_int(h)} hour{'s' if h > 1 else ''} {spell_int(m)} minute{'s' if m > 1 else ''}"

    def temp(self):
        if self.r.random() < 0.6:
            n = self.r.randint(16, 30)
            return self.pick([f"{n}°C", f"{n} degrees", f"{n}°"]), f"{spell_int(n)} degrees"
        n = self.r.randint(60, 85)
        return f"{n}°F", f"{spell_int(n)} degrees Fahrenheit"

    def speed(self):
        n = self.pick([20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 80, 90, 100, 110, 120, 130])
        if self.r.random() < 0.5:
            return f"{n} mph", f"{spell_int(n)} miles per hour"
        return f"{n} km/h", f"{spell_int(n)} kilometers per hour"

    def percent(self, lo=1, hi=100):
        n = self.r.randint(lo, hi)
        return f"{n}%", f"{spell_int(n)} percent"

    def money(self):
        cur = self.pick(["$", "$", "£", "€"])
        names = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
                 "€": ("euro", "euros", "cent", "cents")}[cur]
        whole = self.pick([self.r.randint(1, 99), self.r.randint(100, 999), self.r.randint(1000, 25000)])
        cents = self.pick([0, 0, self.r.randint(1, 99)])
        raw = f"{cur}{whole:,}" + (f".{cents:02d}" if cents else "")
        sp = spell_int(whole) + " " + (names[0] if whole == 1 else names[1])
        if cents:
            sp += " and " + spell_int(cents) + " " + (names[2] if cents == 1 else names[3])
        return raw, sp

    def date(self):
        mi = self.r.randrange(12)
        d = self.r.randint(1, 28)
        k = self.r.random()
        if k < 0.3:
            return f"{MONTHS[mi]} {d}", f"{MONTHS[mi]} {spell_ordinal(d)}"
        if k < 0.5:
            suf = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
            return f"{MONTHS[mi]} {d}{suf}", f"{MONTHS[mi]} {spell_ordinal(d)}"
        if k < 0.7:
            return f"{d} {MON_ABBR[mi]}", f"the {spell_ordinal(d)} of {MONTHS[mi]}"
        y = self.r.randint(1950, 2035)
        if k < 0.85:
            return f"{MONTHS[mi]} {d}, {y}", f"{MONTHS[mi]} {spell_ordinal(d)}, {spell_year(y)}"
        return f"{d} {MONTHS[mi]} {y}", f"the {spell_ordinal(d)} of {MONTHS[mi]} {spell_year(y)}"

    def house(self):
        n = self.pick([self.r.randint(1, 99), self.r.randint(100, 999), self.r.randint(1000, 9999)])
        return str(n), spell_house(n)

    def phone(self):
        a = "".join(str(self.r.randint(0, 9)) for _ in range(3))
        b = "".join(str(self.r.randint(0, 9)) for _ in range(4))
        return f"{a}-{b}", f"{spell_digits(a)}, {spell_digits(b)}"

    def person(self, title_p=0.25):
        f, l = self.pick(FIRST), self.pick(LAST)
        if self.r.random() < title_p:
            ab, full = self.pick([("Dr.", "Doctor"), ("Mr.", "Mister"), ("Mrs.", "Missus"), ("Prof.", "Professor")])
            return f"{ab} {l}", f"{full} {l}"
        if self.r.random() < 0.4:
            return f, f
        return f"{f} {l}", f"{f} {l}"


def spell_house(n: int) -> str:
    """House numbers are read in pairs: 221 -> two twenty-one, 1600 -> sixteen hundred."""
    if n < 100:
        return spell_int(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return spell_int(hi) + " hundred"
    return spell_int(hi) + (" oh " + spell_int(lo) if lo < 10 else " " + spell_int(lo))


ONE_PLURAL = re.compile(r"(?<![\w-])(?<!point )(?<!hundred )(?<!thousand )one (kilometer|kilogram|liter|meter|mile|minute|hour|degree|percent)s\b")


def join(*parts):
    """parts are plain strings (same in both forms) or (raw, spoken) tuples."""
    raw = "".join(p if isinstance(p, str) else p[0] for p in parts)
    sp = "".join(p if isinstance(p, str) else p[1] for p in parts)
    return raw, sp


# ---------------------------------------------------------------- templates
def t_nav(g: Gen):
    r = g.r.randrange(22)
    if r == 0:
        return join("In ", g.distance(), ", ", g.pick(TURNS), ".")
    if r == 1:
        return join("In ", g.distance(), ", ", g.pick(TURNS), " onto ", g.street(), ".")
    if r == 2:
        return join(cap(g.pick(TURNS)), " onto ", g.street(), ".")
    if r == 3:
        return join("Continue on ", g.road(), " for ", g.distance(), ".")
    if r == 4:
        return join("Take ", g.exit(), " toward ", g.pick(CITIES), ".")
    if r == 5:
        n = g.r.randint(1, 5)
        return join("At the roundabout, take the ", (["1st", "2nd", "3rd", "4th", "5th"][n - 1], spell_ordinal(n)),
                    " exit onto ", g.road(), ".")
    if r == 6:
        return join("You will arrive at ", g.clock(True), ".")
    if r == 7:
        return join("Your destination is ", g.distance(), " ahead, on the ", g.pick(["left", "right"]), ".")
    if r == 8:
        return join("Traffic is heavy on ", g.road(), ". Expect a delay of ", g.minutes(), ".")
    if r == 9:
        return join("There is a faster route available. It saves ", g.minutes(), ".")
    if r == 10:
        return join("Head ", g.pick(DIRS), " on ", g.street(), " toward ", g.street(), ".")
    if r == 11:
        return join("Keep ", g.pick(["left", "right"]), " to stay on ", g.road(), ".")
    if r == 12:
        return join("The speed limit is ", g.speed(), ".")
    if r == 13:
        return join("Arriving in ", g.minutes(), ". Estimated arrival ", g.clock(True), ".")
    if r == 14:
        return join("Accident reported ", g.distance(), " ahead on ", g.road(), ".")
    if r == 15:
        return join("Navigating to ", g.pick(PLACES), ". The trip takes about ", g.duration(), ".")
    if r == 16:
        return join("Rerouting. ", cap(g.pick(TURNS)), " in ", g.distance(), ".")
    if r == 17:
        return join("Use the ", g.pick(["left", "right", "middle", "two left", "two right"]), " lanes to take ",
                    g.exit(), ".")
    if r == 18:
        return join("After ", g.distance(), ", the road becomes ", g.road(), ".")
    if r == 19:
        return join("Road works ahead. ", cap(g.pick(TURNS)), " at the next junction.")
    if r == 20:
        return join("You have ", g.distance(), " left. Your arrival time is ", g.clock(True), ".")
    return join("Then, ", g.pick(TURNS), " and continue for ", g.distance(), ".")


def t_car(g: Gen):
    r = g.r.randrange(24)
    if r == 0:
        return join("Play ", g.pick(GENRES), ".")
    if r == 1:
        return join(g.pick(["Skip this song.", "Play the next track.", "Go back to the previous song.",
                            "Pause the music.", "Resume playback.", "Shuffle my playlist.", "Turn the radio off.",
                            "Mute the audio.", "What song is this?", "Repeat this track."]))
    if r == 2:
        n = g.r.randint(1, 30)
        return join("Set the volume to ", (str(n), spell_int(n)), ".")
    if r == 3:
        w, f = g.r.randint(87, 107), g.r.randint(1, 9)
        return join("Tune to ", (f"{w}.{f} FM", f"{spell_int(w)} point {spell_int(f)} F M"), ".")
    if r == 4:
        return join("Call ", g.person(), ".")
    if r == 5:
        return join("Call ", g.person(0), " ", g.pick(["on mobile", "at work", "at home"]), ".")
    if r == 6:
        return join("Dial ", g.phone(), ".")
    if r == 7:
        return join("Incoming call from ", g.person(), ".")
    if r == 8:
        return join("Send a message to ", g.person(0), ": I will be there in ", g.minutes(), ".")
    if r == 9:
        return join("Set the temperature to ", g.temp(), ".")
    if r == 10:
        return join(g.pick(["Turn on the air conditioning.", "Turn off the heated seats.", "Defrost the windshield.",
                            "Open the sunroof.", "Close all windows.", "Turn the fan up.", "Turn the fan down.",
                            "Switch to recirculation.", "Turn on the rear window heater.", "Lock the doors."]))
    if r == 11:
        return join("Fan speed ", (str(n := g.r.randint(1, 7)), spell_int(n)), ".")
    if r == 12:
        return join("Battery at ", g.percent(5, 100), ". Range ", g.distance(), ".")
    if r == 13:
        return join("Fuel is low. The nearest ", g.pick(POI), " is ", g.distance(), " away.")
    if r == 14:
        return join("Find a ", g.pick(POI), " near ", g.pick(PLACES), ".")
    if r == 15:
        return join("Tire pressure low in the ", g.pick(["front left", "front right", "rear left", "rear right"]),
                    " tire: ", (str(p := g.r.randint(22, 30)), spell_int(p)), " psi.")
    if r == 16:
        return join("Outside temperature is ", g.temp(), ".")
    if r == 17:
        return join("Remind me to ", g.pick(["buy milk", "call the garage", "pick up the kids", "charge the car",
                                            "send the report", "book a table"]), " at ", g.clock(True), ".")
    if r == 18:
        return join("Service due in ", g.distance(), ".")
    if r == 19:
        return join("Average consumption ", g.dec(12, 1), " liters per hundred kilometers.") if g.r.random() < 0.5 else \
            join("Average economy ", (str(n := g.r.randint(18, 60)), spell_int(n)), " miles per gallon.")
    if r == 20:
        return join("You have a new message from ", g.person(), ".")
    if r == 21:
        return join("Set a timer for ", g.minutes(), ".")
    if r == 22:
        return join("Charging will be complete at ", g.clock(True), ".")
    return join("Share my arrival time with ", g.person(0), ".")


def t_numbers(g: Gen):
    r = g.r.randrange(16)
    if r == 0:
        return join("The total comes to ", g.money(), ".")
    if r == 1:
        return join("The meeting is on ", g.pick(DAYS), ", ", g.date(), ", at ", g.clock(), ".")
    if r == 2:
        return join("It is ", g.clock(), " now.")
    if r == 3:
        y = g.r.randint(1800, 2030)
        return join("The bridge was built in ", (str(y), spell_year(y)), ".")
    if r == 4:
        n = g.r.randint(2, 999999)
        return join("The population is about ", g.num(n), ".")
    if r == 5:
        return join("Prices rose by ", g.percent(1, 40), " last year.")
    if r == 6:
        return join("Parking costs ", g.money(), " per hour.")
    if r == 7:
        return join("Your appointment is on ", g.date(), ".")
    if r == 8:
        return join("The train leaves at ", g.clock(False), " from platform ", (str(n := g.r.randint(1, 14)), spell_int(n)), ".")
    if r == 9:
        n = g.r.randint(2, 500)
        return join("We counted ", g.num(n), " cars on the bridge.")
    if r == 10:
        return join("The flight lands at ", g.clock(), " local time.")
    if r == 11:
        return join("Chapter ", (str(n := g.r.randint(1, 40)), spell_int(n)), " starts on page ",
                    (str(p := g.r.randint(2, 600)), spell_int(p)), ".")
    if r == 12:
        return join("The score was ", (str(a := g.r.randint(0, 9)), spell_int(a)), " to ",
                    (str(b := g.r.randint(0, 9)), spell_int(b)), ".")
    if r == 13:
        return join("It weighs ", (lambda x: (x[0] + " kg", x[1] + " kilograms"))(g.dec(50, 1)), ".")
    if r == 14:
        return join("The temperature will reach ", g.temp(), " on ", g.pick(DAYS), ".")
    n = g.r.randint(1, 31)
    return join("This is the ", (f"{n}{ {1: 'st', 2: 'nd', 3: 'rd', 21: 'st', 22: 'nd', 23: 'rd', 31: 'st'}.get(n, 'th')}",
                                 spell_ordinal(n)), " time this month.")


def t_address(g: Gen):
    r = g.r.randrange(8)
    if r == 0:
        return join("Navigate to ", g.house(), " ", g.street(), ", ", g.pick(CITIES), ".")
    if r == 1:
        return join("The address is ", g.house(), " ", g.street(), ".")
    if r == 2:
        return join(g.person(), " lives at ", g.house(), " ", g.street(), ".")
    if r == 3:
        return join("Add a stop at ", g.house(), " ", g.street(), ".")
    if r == 4:
        return join("Drive to ", g.person(), "'s house on ", g.street(), ".")
    if r == 5:
        return join("Your next meeting is with ", g.person(), " at ", g.clock(True), ".")
    if r == 6:
        return join("Pick up ", g.person(0), " at ", g.pick(PLACES), ".")
    return join("The parcel goes to ", g.house(), " ", g.street(), ", ", g.pick(CITIES), ".")


# ---------------------------------------------------------------- WordNet prose
def wordnet_examples(wn_dir: str):
    """Quoted example sentences from WordNet's data.* glosses, digit-free and sentence-like."""
    out = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(wn_dir, f"data.{pos}"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "| " not in line:
                    continue
                for ex in re.findall(r'"([^"]+)"', line.split("| ", 1)[1]):
                    ex = ex.strip().rstrip(",;:")
                    n = len(ex.split())
                    if not (5 <= n <= 30) or re.search(r"[^A-Za-z ,.'?!-]", ex) or "--" in ex or ".." in ex:
                        continue
                    if not ex[-1] in ".?!":
                        ex += "."
                    out.append(cap(ex))
    return sorted(set(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wordnet", default="/usr/share/wordnet", help="WordNet 3.0 dict dir (apt-get install wordnet-base)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))  # this folder: the data lives here
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--prose", type=int, default=12000, help="WordNet sentences to keep")
    ap.add_argument("--more-prose", type=int, default=16000,
                    help="further WordNet sentences appended after the shuffled rows (their ids follow the last)")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    g = Gen(rng)
    # (category, generator, how many) -- templated counts are targets before de-duplication
    plan = [("nav", t_nav, 7000), ("car", t_car, 3500), ("num", t_numbers, 3500), ("addr", t_address, 2000)]
    # held-out share per category, so the WER benchmark covers every kind of text
    held = {"nav": 160, "car": 80, "num": 80, "addr": 60, "prose": 220}
    rows = {}
    for cat, fn, n in plan:
        seen, items, tries = set(), [], 0
        while len(items) < n and tries < n * 20:
            tries += 1
            raw, norm = (x.replace("..", ".") for x in fn(g))  # "p.m." at sentence end
            norm = ONE_PLURAL.sub(r"one \1", norm)  # "1 km" -> "one kilometer", not "one kilometers"
            if norm.lower() in seen:
                continue
            seen.add(norm.lower())
            items.append((raw, norm))
        rows[cat] = items
    prose = wordnet_examples(args.wordnet)
    rng.shuffle(prose)
    rows["prose"] = [(s, s) for s in prose[: args.prose]]

    train, heldout = [], []
    for cat, items in rows.items():
        h = held[cat]
        for i, (raw, norm) in enumerate(items):
            (heldout if i < h else train).append((cat, raw, norm))
    rng.shuffle(train)
    # held-out text must never occur in training, even via another category
    held_norms = {n.lower() for _, _, n in heldout}
    train = [t for t in train if t[2].lower() not in held_norms]
    # more prose is appended, never shuffled in: the rows above keep their ids, so teacher features and codes
    # made from an earlier train.tsv (keyed by id, in 250-row shards) stay valid and only the new rows are made
    more = [s for s in prose[args.prose: args.prose + args.more_prose] if s.lower() not in held_norms]
    random.Random(args.seed + 1).shuffle(more)
    train += [("prose", s, s) for s in more]

    os.makedirs(args.out, exist_ok=True)
    for name, data, prefix in (("train.tsv", train, "tr"), ("heldout.tsv", heldout, "ho")):
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write("id\tcategory\traw\tnorm\n")
            for i, (cat, raw, norm) in enumerate(data):
                f.write(f"{prefix}{i:06d}\t{cat}\t{raw}\t{norm}\n")
    counts = {c: len(v) for c, v in rows.items()}
    print(f"train {len(train)}  heldout {len(heldout)}  per category {counts}, then {len(more)} more prose")


if __name__ == "__main__":
    main()
