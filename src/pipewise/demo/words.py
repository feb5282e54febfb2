"""Word lists the demo data is built from. They ship with the code so a demo needs no
download, and a fixed seed makes every run produce the same companies and people."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    tld: str
    legal_forms: tuple[str, ...]
    timezones: tuple[str, ...]
    names: str  # key into FIRST_NAMES / LAST_NAMES


COUNTRIES: tuple[Country, ...] = (
    Country("US", 40, "com", ("Inc.", "LLC", "Corp.", ""), ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"), "en"),
    Country("GB", 12, "co.uk", ("Ltd", "plc", ""), ("Europe/London",), "en"),
    Country("DE", 10, "de", ("GmbH", "AG", "SE"), ("Europe/Berlin",), "de"),
    Country("FR", 7, "fr", ("SAS", "SA", ""), ("Europe/Paris",), "fr"),
    Country("CA", 6, "ca", ("Inc.", "Ltd.", ""), ("America/Toronto", "America/Vancouver"), "en"),
    Country("NL", 5, "nl", ("B.V.", "N.V."), ("Europe/Amsterdam",), "nl"),
    Country("AU", 5, "com.au", ("Pty Ltd", ""), ("Australia/Sydney", "Australia/Melbourne"), "en"),
    Country("ES", 4, "es", ("S.L.", "S.A."), ("Europe/Madrid",), "es"),
    Country("SE", 4, "se", ("AB",), ("Europe/Stockholm",), "nordic"),
    Country("IE", 3, "ie", ("Ltd", "DAC"), ("Europe/Dublin",), "en"),
    Country("CH", 2, "ch", ("AG", "GmbH", "SA"), ("Europe/Zurich",), "de"),
    Country("DK", 2, "dk", ("A/S", "ApS"), ("Europe/Copenhagen",), "nordic"),
)

FIRST_NAMES: dict[str, Sequence[str]] = {
    "en": (
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
        "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Paul "
        "Ashley Steven Emily Andrew Donna Joshua Michelle Kevin Carol Brian Amanda George Melissa Timothy "
        "Deborah Ryan Stephanie Jacob Rebecca Nicholas Laura Eric Sharon Jonathan Cynthia Olivia Noah Amelia "
        "Liam Sophie Harry Grace Oliver Chloe Ethan Hannah Aiden Zoe Priya Arjun Wei Mei Kenji Aisha Omar"
    ).split(),
    "de": (
        "Lukas Anna Jonas Lena Leon Laura Finn Julia Paul Sarah Felix Lea Maximilian Hannah Tim Katharina "
        "Jan Sophie Niklas Marie Tobias Johanna Florian Lisa Stefan Sabine Andreas Claudia Matthias Petra "
        "Thomas Monika Michael Susanne Markus Nicole Christian Birgit Sebastian Anja"
    ).split(),
    "fr": (
        "Gabriel Emma Louis Jade Raphaël Louise Arthur Alice Lucas Chloé Hugo Inès Jules Léa Adam Manon "
        "Nathan Camille Thomas Sarah Nicolas Julie Antoine Pauline Julien Claire Mathieu Élodie Pierre Margaux"
    ).split(),
    "nl": (
        "Daan Emma Sem Julia Lucas Mila Levi Tess Finn Sophie Milan Zoë Bram Sara Thijs Anna Ruben Eva "
        "Jesse Fleur Lars Lotte Niels Sanne Joost Femke Pieter Marloes"
    ).split(),
    "es": (
        "Hugo Lucía Martín Sofía Pablo Martina Alejandro María Lucas Julia Daniel Paula Álvaro Valeria "
        "Javier Carmen Diego Elena Sergio Laura Carlos Marta Jorge Alba Miguel Irene"
    ).split(),
    "nordic": (
        "William Alice Oscar Maja Lucas Elsa Liam Astrid Hugo Wilma Elias Freja Noah Ebba Erik Ingrid "
        "Anders Karin Johan Sofia Mikkel Ida Magnus Emma Nils Linnea Lars Sara"
    ).split(),
}

LAST_NAMES: dict[str, Sequence[str]] = {
    "en": (
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson "
        "Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker "
        "Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
        "Campbell Mitchell Carter Roberts Patel Shah Chen Wang Kim Singh Murphy Kelly O'Brien Evans "
        "Cooper Hughes Edwards Turner Collins Stewart Morris Reed Cook Bell Bailey Ward Price Bennett"
    ).split(),
    "de": (
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
        "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange "
        "Schmitt Werner Krause Meier Lehmann Huber Keller"
    ).split(),
    "fr": (
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
        "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert "
        "Bonnet Fontaine Rousseau Blanc"
    ).split(),
    "nl": (
        "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
        "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
        "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf",
    ),
    "es": (
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz "
        "Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez"
    ).split(),
    "nordic": (
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
        "Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Lindqvist Berg Holm"
    ).split(),
}

# Company names: "<root><ending>" ("Bluepeak"), "<root> <noun>" ("Cedar Logistics"),
# or "<surname> & <surname>".
NAME_ROOTS = (
    "Acme Alder Alpine Amber Apex Arbor Argent Aspen Atlas Aurora Beacon Birch Blue Bold Bright Brook "
    "Cascade Cedar Cinder Clear Cobalt Copper Coral Crest Crimson Crystal Delta Drift Echo Ember Evergreen "
    "Falcon Fern Flint Forge Fox Frontier Glacier Golden Granite Harbor Hawk Helix Highland Horizon Indigo "
    "Iron Ivy Jade Juniper Keystone Kite Lake Lantern Lark Linden Lumen Maple Marble Meadow Meridian Mesa "
    "Nimbus Noble North Nova Oak Onyx Orbit Orchid Pacific Peak Pine Pioneer Pixel Polar Prairie Prism Quartz "
    "Quill Radiant Raven Redwood Ridge River Rock Sable Sage Sierra Silver Slate Solar Sparrow Spruce Stone "
    "Summit Swift Tidal Timber Titan Topaz True Union Vale Vector Velvet Verdant Vista Willow Zenith"
).split()
NAME_ENDINGS = "ly ify io wise works labs point path line stack gate field bridge hub wave base mark sight loop".split()

INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Software": ("Software", "Technologies", "Systems", "Cloud", "Digital", "Analytics", "Data"),
    "Financial services": ("Capital", "Financial", "Partners", "Payments", "Lending"),
    "Healthcare": ("Health", "Medical", "Care", "Clinics", "Diagnostics"),
    "Manufacturing": ("Manufacturing", "Industries", "Components", "Machining", "Fabrication"),
    "Retail": ("Retail", "Stores", "Outfitters", "Market", "Supply"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Fleet"),
    "Education": ("Learning", "Academy", "Education", "Institute"),
    "Energy": ("Energy", "Power", "Renewables", "Solar", "Utilities"),
    "Professional services": ("Consulting", "Advisory", "Group", "Associates", "Partners"),
    "Media": ("Media", "Studios", "Publishing", "Creative"),
    "Real estate": ("Properties", "Realty", "Estates", "Developments"),
    "Telecommunications": ("Networks", "Telecom", "Connect", "Communications"),
    "Hospitality": ("Hospitality", "Hotels", "Travel", "Resorts"),
    "Construction": ("Construction", "Builders", "Engineering", "Contracting"),
}

COMPANY_SIZES = (5, 12, 25, 40, 60, 85, 120, 180, 250, 400, 650, 900, 1500, 2500, 5000, 12000)

TITLES_BY_SENIORITY: tuple[tuple[str, ...], ...] = (
    ("CEO", "COO", "CFO", "CTO", "Chief Revenue Officer", "Founder", "Managing Director"),
    (
        "VP of Sales", "VP of Marketing", "VP of Operations", "VP of Engineering", "Head of Procurement",
        "Head of IT", "Head of Customer Success", "Director of Finance", "Director of Operations",
    ),
    (
        "Sales Manager", "Marketing Manager", "IT Manager", "Operations Manager", "Procurement Manager",
        "Product Manager", "Finance Manager", "Engineering Manager", "Customer Success Manager",
    ),
    (
        "Account Executive", "Business Analyst", "Marketing Specialist", "Systems Administrator",
        "Buyer", "Software Engineer", "Operations Analyst", "Office Manager", "Sales Representative",
    ),
)

OFFERINGS = (
    "Platform licence", "Seat expansion", "Annual renewal", "Pilot", "Enterprise rollout",
    "Analytics add-on", "Onboarding package", "Premium support", "Multi-year agreement", "Integration project",
    "Regional rollout", "Upgrade to Business plan",
)

LEAD_SOURCES = ("Web form", "Webinar", "Referral", "Trade show", "Outbound", "Partner", "Content download", "Free trial")

LOST_REASONS = (
    "Chose a competitor on price", "No budget this year", "Went with an in-house solution",
    "Project postponed", "No decision maker engaged", "Missing integration", "Timing — revisit next quarter",
    "Security review not passed", "Champion left the company",
)

DISQUALIFY_REASONS = ("Student or job seeker", "Too small for our offering", "Outside our regions", "Competitor", "No project")

NEXT_STEPS = (
    "Send proposal", "Schedule technical deep-dive", "Confirm budget with finance", "Security questionnaire",
    "Follow up on pricing", "Book demo with the wider team", "Legal review of contract", "Reference call",
)

CALL_SUBJECTS = ("Discovery call", "Follow-up call", "Pricing discussion", "Check-in call", "Left voicemail", "Intro call")
EMAIL_SUBJECTS = (
    "Proposal attached", "Re: next steps", "Case study you asked for", "Meeting recap", "Quick question",
    "Pricing options", "Re: contract redlines", "Thanks for your time today",
)
MEETING_SUBJECTS = ("Product demo", "Technical deep-dive", "Executive sponsor meeting", "Onsite workshop", "QBR", "Contract review")
NOTE_SUBJECTS = (
    "Budget approved for Q3", "Decision committee identified", "Competitor in the mix", "Champion is the VP",
    "Needs SSO and audit log", "Evaluating two other vendors", "Prefers quarterly billing",
)
TASK_TITLES = (
    "Follow up on proposal", "Send case study", "Call back about pricing", "Prepare demo environment",
    "Update close date", "Confirm meeting agenda", "Send contract for signature", "Check in after trial",
    "Introduce solutions engineer", "Review security questionnaire",
)

# Demo sales organisation: team name, manager, reps.
SALES_TEAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Inside Sales", "Morgan Reyes", ("Jordan Blake", "Priya Raman", "Sam Whitfield", "Elena Marsh")),
    ("Enterprise", "Dana Okafor", ("Chris Holloway", "Mei Tanaka", "Luis Ortega", "Hannah Greer")),
    ("EMEA", "Katrin Vogel", ("Tom Aldridge", "Sophie Laurent", "Jonas Berg", "Ines Moreau")),
)

# North American numbers share +1; an area code places them in a city.
AREA_CODES: dict[str, tuple[int, ...]] = {
    "US": (212, 312, 415, 617, 512, 206, 303, 404, 305, 702, 646, 213, 214, 615, 503, 612),
    "CA": (416, 604, 514, 403, 613, 780),
}
