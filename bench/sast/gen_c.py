"""Family ``c``: a third, independently written template family in the style of OWASP
BenchmarkPython test cases (``param`` from a request, a ``bar`` data-flow snippet, one sink).

Written after the engine was tuned on family ``a``; its first score is reported as is
(RESULTS.md). A case is real when the data-flow snippet leaves ``bar`` tainted and the sink
variant is the dangerous one; both sides vary independently.

Usage: ``python bench/sast/gen_c.py [--out bench/sast/cases] [--seed 3]``
"""

# ruff: noqa: E501 - tables of code snippets read better unwrapped

from __future__ import annotations

import argparse
import json
import random
import shutil
import textwrap
from pathlib import Path

SOURCES = (
    'param = flask.request.args.get("BenchmarkTest", "")',
    'param = flask.request.form.get("BenchmarkTest", "")',
    'param = flask.request.headers.get("BenchmarkTest", "")',
    'param = flask.request.cookies.get("BenchmarkTest", "noCookieValueSupplied")',
    'values = flask.request.args.getlist("BenchmarkTest")\nparam = values[0] if values else ""',
    'param = ""\nfor name in flask.request.form.keys():\n    if name == "BenchmarkTest":\n        param = flask.request.form[name]',
    'query = flask.request.query_string.decode()\nparam = urllib.parse.unquote(query.split("=", 1)[-1])',
    'param = (flask.request.get_json(silent=True) or {}).get("BenchmarkTest", "")',
)

# (snippet, keeps taint?)
FLOWS = (
    ("bar = param", True),
    ('bar = "safe!" if (7 * 42) - 106 > 200 else param', True),
    (
        'num = 86\nif (7 * 42) - num > 200:\n    bar = "This_should_always_happen"\nelse:\n    bar = param',
        False,
    ),
    ('num = 106\nbar = "This_should_always_happen" if (7 * 18) + num > 200 else param', False),
    (
        'map35 = {}\nmap35["keyA-35"] = "a-Value"\nmap35["keyB-35"] = param\nmap35["keyC"] = "another-Value"\n'
        'bar = map35["keyB-35"]',
        True,
    ),
    (
        'map35 = {}\nmap35["keyA-35"] = "a-Value"\nmap35["keyB-35"] = param\nmap35["keyC"] = "another-Value"\n'
        'bar = map35["keyA-35"]',
        False,
    ),
    ('values = ["safe", param, "moresafe"]\nvalues.pop(0)\nbar = values[0]', True),
    ('values = ["safe", param, "moresafe"]\nvalues.pop(0)\nbar = values[1]', False),
    (
        'lst = []\nlst.append("safe")\nlst.append(param)\nlst.append("moresafe")\nlst.pop(0)\nbar = lst[0]',
        True,
    ),
    (
        'lst = []\nlst.append("safe")\nlst.append(param)\nlst.append("moresafe")\nlst.pop(0)\nbar = lst[1]',
        False,
    ),
    (
        'conf = configparser.ConfigParser()\nconf.add_section("section1")\nconf.set("section1", "keyA", "a_Value")\n'
        'conf.set("section1", "keyB", param)\nbar = conf.get("section1", "keyB")',
        True,
    ),
    (
        'conf = configparser.ConfigParser()\nconf.add_section("section1")\nconf.set("section1", "keyA", "a_Value")\n'
        'conf.set("section1", "keyB", param)\nbar = conf.get("section1", "keyA")',
        False,
    ),
    ("bar = base64.b64decode(base64.b64encode(param.encode())).decode()", True),
    (
        'possible = "ABC"\nguess = possible[1]\nmatch guess:\n    case "A":\n        bar = param\n'
        '    case "B":\n        bar = "bob"\n    case "C" | "D":\n        bar = param\n    case _:\n        bar = "bob\'s your uncle"',
        False,
    ),
    (
        'possible = "ABC"\nguess = possible[0]\nmatch guess:\n    case "A":\n        bar = param\n'
        '    case "B":\n        bar = "bob"\n    case _:\n        bar = "bob\'s your uncle"',
        True,
    ),
    ('sbxyz = param + "_SafeStuff"\nbar = sbxyz[: len(sbxyz) - 1]', True),
    ("def do_something(value):\n    return value.strip()\n\nbar = do_something(param)", True),
    ('def do_something(value):\n    return "constant"\n\nbar = do_something(param)', False),
    ('bar = "Hello " + param.split(" ")[0]', True),
    ('a = param\nb = a + " SafeStuff"\nb = b[: len(b) - len("Chars")]\nbar = b', True),
    ('bar = "alsosafe"\nif param:\n    lst = [param, "safe"]\n    bar = lst[1]', False),
    ('thing = param\nbar = f"{thing}"', True),
)

# category -> (cwe, [(sink snippet using bar, dangerous?)], extra imports)
SINKS = {
    "cmdi": (
        78,
        [
            ('subprocess.run(f"echo {bar}", shell=True, check=False)', True),
            ('os.system("echo " + bar)', True),
            ('subprocess.run(["echo", bar], check=False)', False),
            ('subprocess.run("echo " + shlex.quote(bar), shell=True)', False),
        ],
    ),
    "sqli": (
        89,
        [
            (
                "cur = get_db().cursor()\ncur.execute(\"SELECT * FROM USERS WHERE USERNAME='foo' AND PASSWORD='\" + bar + \"'\")",
                True,
            ),
            (
                "conn = get_db()\nconn.executescript(f\"UPDATE USERS SET PASSWORD='{bar}' WHERE USERNAME='foo'\")",
                True,
            ),
            (
                'cur = get_db().cursor()\ncur.execute("SELECT * FROM USERS WHERE USERNAME=? AND PASSWORD=?", ("foo", bar))',
                False,
            ),
        ],
    ),
    "pathtraver": (
        22,
        [
            (
                "with open(os.path.join(TESTFILES_DIR, bar), 'r') as fd:\n    RESPONSE += fd.read()[:100]",
                True,
            ),
            (
                "fileTarget = codecs.open(TESTFILES_DIR + bar, 'r', 'utf-8')\nRESPONSE += fileTarget.read()[:100]",
                True,
            ),
            (
                "with open(os.path.join(TESTFILES_DIR, os.path.basename(bar)), 'r') as fd:\n    RESPONSE += fd.read()[:100]",
                False,
            ),
            (
                "fileName = os.path.realpath(os.path.join(TESTFILES_DIR, bar))\nif fileName.startswith(TESTFILES_DIR):\n"
                "    with open(fileName) as fd:\n        RESPONSE += fd.read()[:100]",
                False,
            ),
        ],
    ),
    "xss": (
        79,
        [
            ("RESPONSE += f'Parameter value: {bar}'", True),
            ("RESPONSE += 'Parameter value: ' + bar", True),
            ("RESPONSE += 'Parameter value: ' + markupsafe.escape(bar)", False),
            ("RESPONSE += f'Parameter value: {html.escape(bar)}'", False),
        ],
    ),
    "codeinj": (
        95,
        [
            ("RESPONSE += str(eval(bar))", True),
            ("exec(bar)", True),
            ("RESPONSE += str(ast.literal_eval(bar))", False),
        ],
    ),
    "redirect": (
        601,
        [
            ("return flask.redirect(bar)", True),
            ("return flask.redirect(f'/landing?from={urllib.parse.quote(bar)}')", False),
        ],
    ),
    "trustbound": (
        501,
        [
            ("flask.session['userid'] = bar", True),
            ("flask.session[bar] = 'constant'", True),
            ("flask.session['userid'] = 'guest' if bar else 'anonymous'", False),
        ],
    ),
    "deserialization": (
        502,
        [
            ("obj = pickle.loads(base64.b64decode(bar))\nRESPONSE += str(obj)", True),
            ("obj = yaml.load(bar, Loader=yaml.Loader)\nRESPONSE += str(obj)", True),
            ("obj = yaml.load(bar, Loader=yaml.SafeLoader)\nRESPONSE += str(obj)", False),
            ("obj = json.loads(bar)\nRESPONSE += str(obj)", False),
        ],
    ),
    "ldapi": (
        90,
        [
            (
                "conn = ldap3.Connection(ldap3.Server('localhost'))\nconn.search('ou=users,dc=bench,dc=org', "
                "f'(&(objectclass=person)(uid={bar}))')",
                True,
            ),
            (
                "conn = ldap3.Connection(ldap3.Server('localhost'))\nconn.search('ou=users,dc=bench,dc=org', "
                "f'(&(objectclass=person)(uid={ldap3.utils.conv.escape_filter_chars(bar)}))')",
                False,
            ),
        ],
    ),
    "xpathi": (
        643,
        [
            (
                "root = lxml.etree.parse(TESTFILES_DIR + 'employees.xml')\n"
                "nodes = root.xpath(f\"/Employees/Employee[@emplid='{bar}']\")",
                True,
            ),
            (
                "root = lxml.etree.parse(TESTFILES_DIR + 'employees.xml')\n"
                "nodes = root.xpath('/Employees/Employee[@emplid=$id]', id=bar)",
                False,
            ),
        ],
    ),
    "xxe": (
        611,
        [
            (
                "parser = lxml.etree.XMLParser(resolve_entities=True)\nroot = lxml.etree.fromstring(bar.encode(), parser)\n"
                "RESPONSE += root.text or ''",
                True,
            ),
            (
                "parser = lxml.etree.XMLParser(resolve_entities=False)\nroot = lxml.etree.fromstring(bar.encode(), parser)\n"
                "RESPONSE += root.text or ''",
                False,
            ),
        ],
    ),
    "hash": (
        328,
        [
            ("hashed = hashlib.md5(bar.encode()).hexdigest()\nRESPONSE += hashed", True),
            ("hashed = hashlib.new('sha1', bar.encode()).hexdigest()\nRESPONSE += hashed", True),
            ("hashed = hashlib.sha256(bar.encode()).hexdigest()\nRESPONSE += hashed", False),
            ("hashed = hashlib.new('sha512', bar.encode()).hexdigest()\nRESPONSE += hashed", False),
        ],
    ),
    "weakrand": (
        330,
        [
            (
                "rememberMeKey = str(random.getrandbits(32))\nresponse = flask.make_response(RESPONSE)\n"
                "response.set_cookie('rememberMe', rememberMeKey, secure=True, httponly=True)\nreturn response",
                True,
            ),
            ("value = random.random()\nflask.session['rememberMe'] = str(value)", True),
            (
                "rememberMeKey = secrets.token_hex(16)\nresponse = flask.make_response(RESPONSE)\n"
                "response.set_cookie('rememberMe', rememberMeKey, secure=True, httponly=True)\nreturn response",
                False,
            ),
            ("value = random.SystemRandom().random()\nflask.session['rememberMe'] = str(value)", False),
        ],
    ),
    "securecookie": (
        614,
        [
            (
                "response = flask.make_response(RESPONSE)\nresponse.set_cookie('SomeCookie', bar, secure=False, httponly=True)\n"
                "return response",
                True,
            ),
            (
                "response = flask.make_response(RESPONSE)\nresponse.set_cookie('SomeCookie', bar, secure=True, httponly=True)\n"
                "return response",
                False,
            ),
        ],
    ),
}
NON_DATAFLOW = {"hash", "weakrand", "securecookie"}
IMPORTS = (
    "import ast\nimport base64\nimport codecs\nimport configparser\nimport hashlib\nimport html\nimport json\n"
    "import os\nimport pickle\nimport random\nimport secrets\nimport shlex\nimport sqlite3\nimport subprocess\n"
    "import urllib.parse\n\nimport flask\nimport ldap3\nimport lxml.etree\nimport markupsafe\nimport yaml\n"
)


def case(rng: random.Random, category: str, want_real: bool) -> tuple[str, dict[str, object]]:
    """One test case whose label is ``want_real``."""
    cwe, sinks = SINKS[category]
    while True:
        flow, tainted = rng.choice(FLOWS)
        sink, dangerous = rng.choice(sinks)
        real = dangerous if category in NON_DATAFLOW else (dangerous and tainted)
        if real == want_real:
            break
    source = rng.choice(SOURCES)
    number = rng.randrange(10_000, 99_999)
    body = f"{source}\n\n{flow}\n\nRESPONSE = ''\n{sink}"
    if not sink.split("\n")[-1].startswith("return"):
        body += "\nreturn RESPONSE"
    text = (
        f"{IMPORTS}\nTESTFILES_DIR = '/srv/testfiles/'\n\n\ndef get_db():\n    return sqlite3.connect('bench.db')\n\n\n"
        f"def init(app: flask.Flask) -> None:\n"
        f"    @app.route('/{category}-00/BenchmarkTest{number}', methods=['GET', 'POST'])\n"
        f"    def BenchmarkTest{number}():\n{textwrap.indent(body, ' ' * 8)}\n"
    )
    return text, {
        "cwe": cwe,
        "category": category,
        "real": real,
        "kind": "tainted" if tainted else "untainted",
        "propagation": flow.split("\n")[0][:40],
        "framework": "flask",
        "source": source[:40],
        "sink": sink.split("\n")[-1][:60],
    }


def main() -> None:
    """Write ``<out>/c/<case>/app.py`` and ``<out>/c/labels.json``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "cases")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--per-side", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = args.out / "c"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    labels = {}
    for category in SINKS:
        for index in range(2 * args.per_side):
            want_real = index < args.per_side
            text, label = case(rng, category, want_real)
            case_id = f"{label['cwe']}-{category}-{index:03d}-{'real' if want_real else 'false'}"
            (target / case_id).mkdir()
            (target / case_id / "app.py").write_text(text, encoding="utf-8")
            labels[case_id] = label
    (target / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(labels)} cases under {target}")


if __name__ == "__main__":
    main()
