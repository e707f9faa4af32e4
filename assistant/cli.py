"""`reperes`: the command line, a thin face over `assistant.service.Assistant`.

Commands (stable contracts, extended but never broken):

  reperes ingest [--corpus DIR] [--force] [--report] [--ray [ADDRESS]]   build or update the index
  reperes chunks [--corpus DIR]               one JSON chunk per line, index untouched
  reperes actions [--corpus DIR] [--json] [--age N] [--commune C] [--theme T] [--search TEXT]   the action catalogue
  reperes ask "QUESTION" [--json] [-k N]      answer one question
  reperes ask --batch IN.jsonl --out OUT.jsonl   answer many (models load once)
  reperes eval --set FILE [--set FILE…] [--split tune|check|both] [--report DIR] [--compare A,B] [--gate]   evaluation run
  reperes eval-drafts FEEDBACK.jsonl --out DRAFTS.jsonl   feedback -> draft eval items
  reperes feedback export --out FILE.jsonl      counsellors' 👍/👎 in the eval-set format
  reperes purge [--all] [--older-than DAYS]    delete stored feedback past the retention (REPERES_RETENTION_DAYS)
  reperes serve [--host H] [--port P]         the web chat and the HTTP API (/api, /docs)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from assistant.inputs import MAX_K, bad_character, history_problem, printable, question_problem, type_name
from assistant.records import Answer
from assistant.render import render
from assistant.service import Assistant
from assistant.settings import Settings, SettingsError
from index.atomic import write_text_atomic
from index.build import BuildReport, load_actions, load_chunks
from index.catalogue import ActionFilter, Listed, filter_actions
from index.e5_convert import ConversionError
from index.prefetch import QuestionPrefetch
from index.store import IndexNotReady
from ingest.loaders import file_size_limit, os_reason
from ingest.report import corpus_report, format_report

EPILOG = """Réglages : variables d'environnement REPERES_HOME, REPERES_CORPUS, REPERES_EMBED_MODEL,
REPERES_TOP_K, REPERES_RETRIEVAL, REPERES_LLM, REPERES_HOST, REPERES_PORT (ou PORT). Voir le README."""


class UsageError(Exception):
    """Bad input from the user; the message (French) says what to change."""


# argparse's own messages, in French (its errors end the command with code 2, like ours).
_ARGPARSE_FR = [
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (r"unrecognized arguments: (.*)", r"arguments non reconnus : \1 (voir reperes --help)"),
    (r"argument (\S+): invalid int value: (.*)", r"argument \1 : \2 n'est pas un nombre entier"),
    (r"argument (\S+): invalid (\w+) value: (.*)", r"argument \1 : valeur \3 invalide"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"argument \1 : choix \2 inconnu (choisissez parmi \3)"),
    (r"argument (\S+): expected one argument", r"argument \1 : une valeur est attendue après l'option"),
    (r"argument (\S+): expected (.*)", r"argument \1 : valeur attendue"),
    (r"argument (\S+): not allowed with argument (.*)", r"argument \1 : incompatible avec \2"),
    (r"argument (\S+): ignored explicit argument (.*)", r"argument \1 : valeur \2 en trop"),
    (r"ambiguous option: (\S+) could match (.*)", r"option \1 ambiguë : \2 ?"),
]


class _FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help with a French "usage:" (argparse ships no French translation)."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)

    def start_section(self, heading: str | None) -> None:
        super().start_section(f"{heading} " if heading else heading)  # "options :", French spacing before the colon


class _FrenchParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors and help are in French (subcommands inherit the class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _FrenchHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        kwargs["add_help"] = False  # our own -h, with a French text
        super().__init__(*args, **kwargs)
        # argparse's own headings and -h text are English: replaced here rather than through gettext,
        # which would need a compiled catalogue installed for the "argparse" domain.
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="afficher cette aide et quitter")

    def error(self, message: str) -> NoReturn:
        for pattern, french in _ARGPARSE_FR:
            if re.fullmatch(pattern, message, flags=re.DOTALL):
                message = re.sub(pattern, french, message, flags=re.DOTALL)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"Erreur : {self.prog} : {message}\n")


def _argument_problem(argv: list[str]) -> str | None:
    """An argument that is not valid text: bytes that are not UTF-8 reach Python as lone surrogates
    (surrogateescape), and a question made of them crashed the tokenizer, a path of them the printing."""
    for n, arg in enumerate(argv, start=1):
        if isinstance(arg, str) and (position := bad_character(arg)) is not None:
            return (
                f"l'argument n° {n} « {printable(arg)} » contient des octets qui ne sont pas de l'UTF-8 "
                f"(position {position + 1}) : réglez le terminal en UTF-8 (par exemple LANG=fr_FR.UTF-8) "
                "et retapez-le, ou renommez le fichier"
            )
    return None


def _parser() -> argparse.ArgumentParser:
    p = _FrenchParser(
        prog="reperes",
        description="Repères : les actions jeunesse de la MEL et de Valenciennes, avec leurs sources.",
        epilog=EPILOG,
    )
    p.add_argument("--version", action="version", version=f"reperes {_version()}", help="afficher la version et quitter")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    ing = sub.add_parser("ingest", help="construire ou mettre à jour l'index du corpus")
    ing.add_argument("--corpus", type=Path, help="dossier des documents (défaut : corpus fourni, data/corpus)")
    ing.add_argument("--force", action="store_true", help="reconstruire même si l'index est à jour, tous les passages réencodés")
    ing.add_argument(
        "--report", action="store_true", help="afficher ce qui a été trouvé par document (passages, fiches, réparations, bruit)"
    )
    _progress_option(ing, "documents lus et passages encodés")
    ing.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADRESSE",
        help="calculer les vecteurs sur un cluster Ray (extra ray) : sans adresse un Ray local, sinon auto ou ray://HÔTE:10001",
    )
    ing.add_argument("--ray-actors", type=int, metavar="N", help="avec --ray : nombre d'acteurs (défaut : un par CPU du cluster)")

    ch = sub.add_parser("chunks", help="afficher les passages découpés (JSONL), sans toucher à l'index")
    ch.add_argument("--corpus", type=Path, help="dossier des documents (défaut : corpus fourni)")

    act = sub.add_parser("actions", help="le catalogue des actions lues dans les documents (tableau ou JSONL)")
    act.add_argument("--corpus", type=Path, help="dossier des documents (défaut : corpus fourni)")
    act.add_argument("--json", action="store_true", help="un objet JSON par action (contrat)")
    act.add_argument("--age", type=int, help="âge du jeune : retire les actions qui l'excluent")
    act.add_argument("--commune", help="commune du jeune : retire les actions qui l'excluent")
    act.add_argument("--theme", help="thème ou situation : emploi, logement, decrochage…")
    act.add_argument("--search", help="mots à chercher dans le titre, le porteur, le public, le résumé")
    act.add_argument("--porteur", help="qui porte l'action (porteur ou partenaire) : AFEV, Unis-Cité…")

    ask = sub.add_parser("ask", help="poser une question (ou un lot avec --batch)")
    ask.add_argument("question", nargs="?", help="la question, entre guillemets")
    ask.add_argument("--json", action="store_true", help="réponse au format JSON (contrat stable)")
    ask.add_argument("-k", type=int, help="nombre de passages à rechercher (défaut : REPERES_TOP_K)")
    ask.add_argument("--batch", type=Path, metavar="IN", help='fichier JSONL de questions {"id","question"}')
    ask.add_argument("--out", type=Path, metavar="OUT", help="fichier JSONL des réponses (avec --batch)")
    ask.add_argument("--corpus", type=Path, help="dossier des documents (défaut : corpus fourni)")
    _progress_option(ask, "questions traitées d'un lot, passages encodés si l'index est à refaire")

    ev = sub.add_parser("eval", help="évaluer les réponses sur un ou plusieurs jeux de questions (rapport, comparaison, seuils)")
    ev.add_argument(
        "--set",
        dest="eval_set",
        type=str,
        action="append",
        required=True,
        metavar="FICHIER.jsonl",
        help="jeu de questions (format de eval/data/dev.jsonl) ; répétable, ou plusieurs séparés par des virgules",
    )
    ev.add_argument(
        "--split",
        choices=("both", "check", "tune"),
        default="both",
        help="moitié des jeux à évaluer : check (contrôle), tune (réglage) ou both (les deux, côte à côte ; défaut)",
    )
    ev.add_argument(
        "--report", type=Path, metavar="DOSSIER", help="écrire report.html, report.md et results.json dans ce dossier"
    )
    ev.add_argument(
        "--compare",
        metavar="CONFIGS",
        help="configurations séparées par des virgules (défaut : le mode de recherche des réglages)",
    )
    ev.add_argument(
        "--gate",
        action="store_true",
        help="échouer (code 1) si une métrique passe sous les seuils des réglages, sur chaque moitié de chaque jeu",
    )
    ev.add_argument(
        "--retrieval-only", action="store_true", help="n'afficher que les métriques de recherche (rappel, MRR, nDCG, latence)"
    )
    ev.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    dr = sub.add_parser("eval-drafts", help="transformer les avis exportés en brouillons de questions d'évaluation")
    dr.add_argument("feedback", type=Path, help="fichier JSONL exporté par `reperes feedback export`")
    dr.add_argument("--out", type=Path, required=True, help="fichier JSONL des brouillons à relire")

    fb = sub.add_parser("feedback", help="avis des conseillers (👍/👎) enregistrés par le chat et l'API")
    fb_sub = fb.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    fb_export = fb_sub.add_parser("export", help="exporter les avis en JSONL (format des jeux d'évaluation)")
    fb_export.add_argument("--out", type=Path, required=True, metavar="FICHIER.jsonl", help="fichier JSONL à écrire")

    pg = sub.add_parser("purge", help="supprimer les avis enregistrés plus anciens que la durée de conservation")
    pg_what = pg.add_mutually_exclusive_group()
    pg_what.add_argument("--all", action="store_true", help="supprimer tous les avis enregistrés")
    pg_what.add_argument(
        "--older-than",
        type=int,
        metavar="JOURS",
        help="supprimer les avis de plus de JOURS jours (défaut : REPERES_RETENTION_DAYS)",
    )

    mig = sub.add_parser("migrate", help="copier l'index FAISS dans PostgreSQL + pgvector (partagé par plusieurs instances)")
    mig.add_argument("--to", choices=["pgvector"], required=True, help="magasin de destination : pgvector")
    mig.add_argument("--dsn", help="URL postgresql://… de la base (défaut : REPERES_PG_DSN)")

    srv = sub.add_parser("serve", help="lancer le chat web et l'API")
    srv.add_argument("--host", help="adresse d'écoute (défaut 127.0.0.1)")
    srv.add_argument("--port", type=int, help="port (défaut 7860, ou PORT)")

    bn = sub.add_parser("bench", help="mesurer ingestion, index, démarrage, latences et mémoire, face à la chaîne LangChain type")
    bn.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="tailles synthétiques en passages, séparées par des virgules (défaut : 10k, 100k, 1M ; vide : aucune)",
    )
    bn.add_argument("--repeats", type=int, default=3, help="passages de mesure dont on prend la médiane (défaut 3)")
    bn.add_argument("--out", type=Path, default=None, help="fichier JSON des résultats (défaut : out/bench/bench.json)")
    bn.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    return p


def _progress_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"barres de progression sur la sortie d'erreur ({what}) ; par défaut seulement dans un terminal",
    )


def _wants_progress(args: argparse.Namespace) -> bool:
    """--progress / --no-progress, else bars only when stderr is a terminal (never in a log or a pipe)."""
    chosen = getattr(args, "progress", None)
    return sys.stderr.isatty() if chosen is None else bool(chosen)


# The ingest's stages (``index.build.Progress``) as the bars name them: label, unit.
_INGEST_STAGES = {"documents": ("Documents lus", "doc"), "passages": ("Passages encodés", "passage")}


class _IngestBars:
    """The bars of an ingest (``index.build.Progress``): documents read, then passages embedded, on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            if not total:
                return  # nothing to do at this stage (no passage to embed): no empty bar
            label, unit = _INGEST_STAGES.get(stage, (stage, "élément"))
            bar = self.bars[stage] = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("reperes")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "inconnue"


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus=getattr(args, "corpus", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _ensure_index(assistant: Assistant, progress: bool = False) -> None:
    if assistant.settings.store != "faiss":
        return  # served from PostgreSQL: `reperes ingest` then `reperes migrate --to pgvector` fill it
    report = assistant.ingest(progress=_IngestBars() if progress else None)
    if report.rebuilt:
        print(f"Index construit : {report.manifest.count} passages en {report.seconds:.1f} s{_reuse(report)}.", file=sys.stderr)
    for problem in report.problems:
        print(f"Fichier ignoré : {problem.path.name} — {problem.reason}", file=sys.stderr)


def _reuse(report: BuildReport) -> str:
    """What a rebuild embedded and what it reused, and the documents it found changed (empty when current)."""
    if not report.rebuilt:
        return ""
    docs = report.documents
    changes = [
        f"{label} : {', '.join(names)}"
        for label, names in (("ajoutés", docs.added), ("modifiés", docs.changed), ("retirés", docs.removed))
        if names
    ]
    said = f" ; {_count(report.embedded, 'passage encodé', 'passages encodés')}, {report.reused} repris du cache"
    return said + (f" ; documents {' ; '.join(changes)}" if changes else "")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n < 2 else many}"  # French: 0 and 1 take the singular


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    ray = _ray_embeddings(args, settings) if args.ray is not None else None  # a missing extra said before any work
    if args.report:
        print(format_report(corpus_report(settings.corpus)))
    assistant = Assistant(settings, embeddings=ray)
    try:
        report = assistant.ingest(force=args.force, progress=_IngestBars() if _wants_progress(args) else None)
    finally:
        if ray is not None:
            ray.close()
    m = report.manifest
    state = "construit" if report.rebuilt else "déjà à jour"
    print(
        f"Index {state} : {m.count} passages, modèle {m.embed_model}, dans {assistant.settings.index_dir} "
        f"({report.seconds:.1f} s){_reuse(report)}."
    )
    for problem in report.problems:
        print(f"Fichier ignoré : {problem.path.name} — {problem.reason}", file=sys.stderr)
    return 0


def _ray_embeddings(args: argparse.Namespace, settings: Settings) -> Any:
    """`ingest --ray [ADDRESS]`: the passages embedded by a pool of Ray actors with the model used here
    (index/distributed.py); Ray is imported only now. A missing extra or an unreachable cluster is a
    RayUnavailable (an IndexNotReady: French message, exit 2)."""
    from index.distributed import RayEmbeddings, RayOptions

    if args.ray_actors is not None and args.ray_actors < 1:
        raise UsageError(f"--ray-actors ({args.ray_actors}) doit être ≥ 1")
    options = RayOptions(address=args.ray.strip() or None, actors=args.ray_actors)
    return RayEmbeddings.for_model(settings.embed_model, settings.home, settings.query_prompt, settings.passage_prompt, options)


def cmd_chunks(args: argparse.Namespace) -> int:
    chunks, problems = load_chunks(_settings(args).corpus)
    out = sys.stdout
    for chunk in chunks:
        out.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
    for problem in problems:
        print(f"Fichier ignoré : {problem.path.name} — {problem.reason}", file=sys.stderr)
    return 0


def cmd_actions(args: argparse.Namespace) -> int:
    query = ActionFilter(age=args.age, commune=args.commune, theme=args.theme, search=args.search, porteur=args.porteur)
    actions, problems = load_actions(_settings(args).corpus)
    listed = filter_actions(actions, query)
    if args.json:
        for item in listed:
            sys.stdout.write(json.dumps(item.action.to_json(), ensure_ascii=False) + "\n")
    else:
        print(_actions_table(listed))
    for problem in problems:
        print(f"Fichier ignoré : {problem.path.name} — {problem.reason}", file=sys.stderr)
    return 0


def _actions_table(listed: list[Listed]) -> str:
    """A readable table: one action a line (id, title, porteur, ages, where, contact), then the count."""

    def cell(text: str | None, width: int) -> str:
        text = " ".join((text or "—").split())
        return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)

    rows = [f"{'id':<34} {'titre':<44} {'porteur':<28} {'âges':<9} {'territoire':<26} contact"]
    rows.append("-" * len(rows[0]))
    for item in listed:
        a = item.action
        ages = f"{a.age_min if a.age_min is not None else ''}-{a.age_max if a.age_max is not None else ''}"
        where = ", ".join(a.communes) or a.territory_scope or ""
        if a.qpv:
            where += " (QPV)" if a.qpv == "only" else " (hors QPV)"
        person = next((c for c in a.contacts if c.emails or c.phones), None)
        contact = (
            (person.name or person.organisation or "") + " " + ", ".join([*person.emails[:1], *person.phones[:1]])
            if person
            else ""
        )
        check = " (à vérifier)" if item.verdict is not None and item.verdict.status != "match" else ""
        rows.append(
            f"{cell(a.id, 34)} {cell(a.title, 44)} {cell(a.porteur, 28)} {cell(ages if ages != '-' else '', 9)} "
            f"{cell(where, 26)} {contact.strip() or '—'}{check}"
        )
    rows.append(f"{len(listed)} action(s).")
    return "\n".join(rows)


@dataclass(frozen=True)
class BatchLine:
    """One question line of a batch file: what to ask, or why it cannot be asked (its error record)."""

    number: int  # line of the file, from 1
    id: Any  # the line's "id", whatever its JSON type (None when absent)
    question: str  # as written; a non-text question is shown as its JSON
    history: list[str]
    problem: str | None = None  # French reason: the line gets an error record, the batch goes on


# One batch line holds a question and its history: far below this unless the file is not a batch at all.
MAX_BATCH_LINE_BYTES = 64 * 1024 * 1024


def _batch_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(number, bytes) of each line of ``path``, each read with a bound (a file of one huge line is refused)."""
    if path.is_dir():
        raise UsageError(f"--batch {path} est un dossier : indiquez le fichier JSONL des questions.")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UsageError(f"Impossible de lire {path} ({os_reason(exc)}) : vérifiez le chemin donné à --batch.") from exc
    with handle:
        for number in range(1, sys.maxsize):
            line = handle.readline(MAX_BATCH_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_BATCH_LINE_BYTES:
                raise UsageError(
                    f"{path}, ligne {number} : plus de 64 Mo sur une ligne ; ce n'est pas un fichier de questions JSONL."
                )
            yield number, line


def _read_batch(path: Path, settings: Settings) -> list[BatchLine]:
    """Every question line of a batch file, checked before any answer.

    Malformed lines (not UTF-8, not JSON) and a file past ``max_batch_lines`` stop the run (UsageError with the
    line number); a line whose content cannot be asked (empty question, wrong type, too long) becomes a
    BatchLine with its ``problem``, answered by an error record.
    """
    lines: list[BatchLine] = []
    for number, raw in _batch_lines(path):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path}, ligne {number} : octet {exc.start + 1} qui n'est pas de l'UTF-8 ; réenregistrez le fichier en UTF-8."
            ) from exc
        if number == 1:
            text = text.removeprefix("\ufeff")  # Windows editors start UTF-8 files with a byte-order mark
        if not text.strip():
            continue
        if len(lines) == settings.max_batch_lines:
            raise UsageError(
                f"{path} a plus de {settings.max_batch_lines} questions (réglage REPERES_MAX_BATCH_LINES) : "
                "découpez-le en plusieurs fichiers, ou relevez la limite."
            )
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{path}, ligne {number} : JSON invalide (colonne {exc.colno}) ; aucune réponse n'a été calculée."
            ) from exc
        except (ValueError, RecursionError) as exc:  # a number of more than 4300 digits, nesting too deep
            raise UsageError(
                f"{path}, ligne {number} : JSON illisible (nombre trop long ou imbrication trop profonde) ; "
                "aucune réponse n'a été calculée."
            ) from exc
        lines.append(_batch_line(number, item, settings))
    if not lines:
        raise UsageError(
            f'{path} ne contient aucune question : une ligne JSON par question, par exemple {{"id": "q1", "question": "…"}}.'
        )
    return lines


def _batch_line(number: int, item: Any, settings: Settings) -> BatchLine:
    problem: str | None
    if not isinstance(item, dict):
        problem = f'la ligne doit être un objet JSON {{"id", "question"}} (reçu : {type_name(item)})'
        return BatchLine(number, None, json.dumps(item, ensure_ascii=False), [], f"Ligne {number} : {problem}.")
    question, history = item.get("question"), item.get("history", [])
    if "question" not in item:
        problem = 'champ « question » manquant : chaque ligne est {"id": …, "question": "…"}'
    else:
        problem = question_problem(question, settings) or history_problem(history, settings)
    if problem or not isinstance(question, str):
        # The record shows the question as written; a non-text one as its JSON (nothing of the line is lost).
        shown = question if isinstance(question, str) else "" if question is None else json.dumps(question, ensure_ascii=False)
        return BatchLine(number, item.get("id"), shown, [], f"Ligne {number} : {problem}.")
    return BatchLine(number, item.get("id"), question, list(history or []))


def _writable_file(path: Path, option: str) -> None:
    """Raise UsageError (French) unless a file can be written at ``path``: checked before any work, so a
    bad ``--out`` never costs the run it would have written."""
    if path.is_dir():
        raise UsageError(f"{option} {path} est un dossier : indiquez un fichier, par exemple {path / 'reponses.jsonl'}.")
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"{option} {path} : {existing} est un fichier, pas un dossier ; choisissez un autre chemin.")
    if not parent.is_dir():
        raise UsageError(
            f"{option} {path} : le dossier {parent} n'existe pas ; créez-le (mkdir -p {parent}) ou corrigez le chemin."
        )
    _probe(parent, f"{option} {path} : impossible d'écrire dans {parent}")


def _probe(folder: Path, said: str) -> None:
    """Raise UsageError (``said``, the system's reason, the fix) unless a file can be written in ``folder``:
    a real write, since root passes ``os.access`` on a read-only mount."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{said} ({os_reason(exc)}) ; choisissez un dossier où vous pouvez écrire.") from exc


def _writable_dir(path: Path, option: str) -> None:
    """Raise UsageError (French) unless files can be written in the folder ``path`` (created if missing, as
    the report writer would): checked before an evaluation that takes minutes."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} est un fichier : indiquez un dossier (il sera créé au besoin).")
    said = f"{option} {path} : impossible d'écrire dans ce dossier"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{said} ({os_reason(exc)}) ; choisissez un dossier où vous pouvez écrire.") from exc
    _probe(path, said)


def _json_line(record: dict[str, Any]) -> str:
    """A record as one JSONL line: UTF-8 as is, or escaped when it holds a lone surrogate (kept, not lost)."""
    line = json.dumps(record, ensure_ascii=False)
    return (line if bad_character(line) is None else json.dumps(record)) + "\n"


def _ask_batch(args: argparse.Namespace) -> int:
    """Answer a batch file: records written one by one to OUT.partial, renamed to OUT at the end; an
    interruption leaves OUT.partial with what was computed (OUT untouched)."""
    if args.question:
        raise UsageError("Donnez soit une question, soit --batch, pas les deux.")
    if not args.out:
        raise UsageError("--batch demande --out FICHIER pour écrire les réponses.")
    settings = _settings(args)
    lines = _read_batch(args.batch, settings)
    _writable_file(args.out, "--out")
    partial = args.out.with_name(args.out.name + ".partial")
    try:
        handle = partial.open("w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out : impossible d'écrire {partial} ({os_reason(exc)}).") from exc
    written = errors = 0
    start = time.perf_counter()
    try:
        with handle:
            assistant = Assistant(settings)
            progress = _wants_progress(args)
            _ensure_index(assistant, progress)
            assistant.warm_up()
            start = time.perf_counter()
            for line in _question_bar(lines, progress):
                record = _batch_record(assistant, line, args.k)
                errors += record["kind"] == "error"
                handle.write(_json_line(record))
                handle.flush()  # an interruption keeps every record computed so far
                written += 1
            os.fsync(handle.fileno())
        os.replace(partial, args.out)
    except BaseException:
        if written:
            print(
                f"Interrompu : les {written} réponses déjà calculées (sur {len(lines)}) sont dans {partial} ; "
                f"{args.out} n'a pas été modifié.",
                file=sys.stderr,
            )
        else:
            partial.unlink(missing_ok=True)
        raise
    refused = f", dont {errors} lignes en erreur" if errors else ""
    print(f"{written} réponses écrites dans {args.out}{refused} ({time.perf_counter() - start:.1f} s).", file=sys.stderr)
    return 0


def _question_bar(lines: list[BatchLine], progress: bool) -> Any:
    """The batch's questions, behind a bar of those answered when ``progress`` (stderr)."""
    if not progress:
        return lines
    from tqdm import tqdm

    return tqdm(lines, desc="Questions traitées", unit="question", file=sys.stderr, leave=False)


def _batch_record(assistant: Assistant, line: BatchLine, k: int | None) -> dict[str, Any]:
    if line.problem is None:
        try:
            record = assistant.ask(line.question, k=k, history=line.history).to_json()
        except ValueError as exc:
            # A question the assistant cannot read ("???") gets an error record; the batch goes on.
            record = Answer(line.question, str(exc), refused=True, kind="error").to_json()
    else:
        record = Answer(line.question, line.problem, refused=True, kind="error").to_json()
    record["id"] = line.id
    return record


def cmd_ask(args: argparse.Namespace) -> int:
    if args.k is not None and not 1 <= args.k <= MAX_K:
        raise UsageError(f"-k ({args.k}) doit être entre 1 et {MAX_K}.")
    if args.batch:
        return _ask_batch(args)
    if args.out:
        raise UsageError("--out va avec --batch : pour une question seule, la réponse s'affiche (--json pour le JSON).")
    if not args.question or not args.question.strip():
        raise UsageError('Posez une question : reperes ask "quelle action pour un décrocheur de 17 ans à Loos ?"')
    settings = _settings(args)
    if problem := question_problem(args.question, settings):
        raise UsageError(problem[:1].upper() + problem[1:] + ".")
    assistant = Assistant(settings)
    if args.prefetch is not None:  # the question's vector comes from the helper process: no model load here
        assistant.use_prefetch(args.prefetch)
    _ensure_index(assistant, _wants_progress(args))
    # Not warm_up: its example questions would double a one-question process's time.
    load_s = assistant.load(model=args.prefetch is None)
    answer = assistant.ask(args.question, k=args.k)
    answer.timings_ms["load"] = load_s * 1000  # index load, paid once per process (the model loads beside it)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(_render_text(answer))
    return 0


def _render_text(answer: Answer) -> str:
    return render(answer)


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.api import serve

    settings = _settings(args)
    assistant = Assistant(settings)
    _ensure_index(assistant)
    serve(assistant, settings.host, settings.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from assistant.service import CONFIGURATIONS
    from eval.dataset import load_set, select_half, set_kind
    from eval.gate import gate_failures
    from eval.history import append_history, history_path
    from eval.report import render_text, write_report
    from eval.run import run_set

    settings = _settings(args)
    paths = [Path(p.strip()) for value in args.eval_set for p in value.split(",") if p.strip()]
    if not paths:
        raise UsageError("--set demande au moins un fichier de questions.")
    if args.report:
        _writable_dir(args.report, "--report")
    loaded = [(path, load_set(path)) for path in paths]  # every set validated before any model loads
    configs = [c.strip() for c in (args.compare or settings.retrieval).split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGURATIONS]
    if unknown:
        raise UsageError(f"configuration inconnue : {', '.join(unknown)} ; disponibles : {', '.join(CONFIGURATIONS)}")
    chosen = [(path, items, select_half(items, args.split)) for path, items in loaded]
    empty = [str(path) for path, _, half in chosen if not half]
    if empty:
        raise UsageError(f"aucune question de la moitié « {args.split} » dans : {', '.join(empty)}")
    assistant = Assistant(settings)
    _ensure_index(assistant)
    progress = not args.no_progress and sys.stderr.isatty()
    start = time.perf_counter()
    sets = []
    history: list[dict[str, Any]] = []
    for path, items, half in chosen:
        one = run_set(half, assistant, configs, str(path), progress=progress, split=args.split, kind=set_kind(items))
        history = append_history(history_path(settings.home), one)
        sets.append(one)
    seconds = time.perf_counter() - start
    results: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "configs": configs,
        "split": args.split,
        "seconds": seconds,
        "sets": sets,
        "history": history,
    }
    if args.gate:
        # The gate judges the configuration the product runs (the others are there to compare).
        for one in sets:
            gated = [run for run in one["runs"] if run["config"] == settings.retrieval] or one["runs"]
            one["gate"] = [f"[{run['config']}] {line}" for run in gated for line in gate_failures(run, settings, one["kind"])]
    for one in sets:
        if args.retrieval_only:
            print(f"{one['set']}\n{_retrieval_table(one)}")
            continue
        for run in one["runs"]:
            m, lat = run["metrics"]["all"], run["latency"].get("total", {})
            print(
                f"{one['set']} — {run['config']:<20} traitées {_pct(m.get('handled'))}  rappel@5 {_pct(m.get('recall@5'))}  "
                f"MRR@10 {_pct(m.get('mrr@10'))}  couverture {_pct(m.get('coverage'))}  refus justes {_pct(m.get('refusal'))}  "
                f"faux refus {_pct(m.get('false_refusal'))}  contacts inventés {m.get('invented_contacts', 0):.0f}  "
                f"p50 {lat.get('p50', 0):.0f} ms"
            )
    if not args.retrieval_only:
        print(render_text(results))
    print(f"Évaluation : {sum(len(half) for _, _, half in chosen)} questions en {seconds:.0f} s.")
    if args.report:
        written = write_report(results, args.report)
        print(f"Rapport : {written['html']}")
    if args.gate:
        failures = [f"{one['set']} {line}" for one in sets for line in one["gate"]]
        if failures:
            print("Seuils de qualité non atteints :\n" + "\n".join(f"  - {line}" for line in failures), file=sys.stderr)
            return 1
        halves = {"both": "moitié contrôle et moitié réglage", "check": "moitié contrôle", "tune": "moitié réglage"}[args.split]
        print(f"Seuils de qualité : tous atteints ({halves} de chaque jeu).")
    return 0


def _retrieval_table(results: dict[str, Any]) -> str:
    """Retrieval metrics per configuration: overall, on eligibility questions, and retrieval latency."""
    head = f"{'configuration':<20} {'rappel@1':>8} {'rappel@5':>8} {'rappel@10':>9} {'MRR@10':>7} {'nDCG@10':>7} {'éligib.@5':>9} {'p50 ms':>7} {'p95 ms':>7}"
    rows = [head, "-" * len(head)]
    for run in results["runs"]:
        m, e, lat = run["metrics"]["all"], run["metrics"].get("eligibility", {}), run["latency"].get("retrieve", {})
        rows.append(
            f"{run['config']:<20} {m['recall@1']:>8.3f} {m['recall@5']:>8.3f} {m['recall@10']:>9.3f} {m['mrr@10']:>7.3f} "
            f"{m['ndcg@10']:>7.3f} {e.get('recall@5') or 0:>9.3f} {lat.get('p50', 0):>7.1f} {lat.get('p95', 0):>7.1f}"
        )
    return "\n".join(rows)


def _pct(value: float | None) -> str:
    return "   —  " if value is None else f"{100 * value:5.1f} %"


def cmd_eval_drafts(args: argparse.Namespace) -> int:
    from eval.drafts import drafts_from_feedback

    _writable_file(args.out, "--out")
    drafts = drafts_from_feedback(args.feedback)
    write_text_atomic(args.out, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drafts))
    print(
        f"{len(drafts)} brouillons écrits dans {args.out} : complétez must_include, sources et type avant de les ajouter à un jeu."
    )
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    import sqlite3

    from assistant.feedback import FeedbackStore, feedback_path

    path = feedback_path(_settings(args))
    _writable_file(args.out, "--out")
    try:
        count = FeedbackStore(path).export(args.out)
    except sqlite3.Error as exc:
        raise UsageError(f"Base des avis illisible ({path}) : {exc}") from exc
    if count == 0:
        print(f"Aucun avis enregistré dans {path} : {args.out} est vide.", file=sys.stderr)
    else:
        print(
            f"{count} avis exportés dans {args.out} ; `reperes eval-drafts {args.out} --out BROUILLONS.jsonl` en fait des brouillons."
        )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from index.pgstore import masked, migrate
    from index.store import FaissStore

    settings = _settings(args)
    dsn = args.dsn or settings.pg_dsn
    if not dsn:
        raise UsageError("indiquez la base PostgreSQL : --dsn postgresql://… ou REPERES_PG_DSN")
    store = FaissStore.load(settings.index_dir)  # the index `reperes ingest` built (IndexNotReady says how if missing)
    done = migrate(store, dsn)
    dropped = f" ; anciennes copies supprimées : {', '.join(map(str, done.dropped))}" if done.dropped else ""
    print(
        f"Index copié dans PostgreSQL ({masked(dsn)}) : {done.chunks} passages, {done.actions} actions, "
        f"version {done.version} en service ({done.seconds:.1f} s){dropped}. Les instances la chargent à leur démarrage."
    )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    import sqlite3

    from assistant.feedback import FeedbackStore, feedback_path

    settings = _settings(args)
    path = feedback_path(settings)
    days = None if args.all else (args.older_than if args.older_than is not None else settings.retention_days)
    if days is not None and days < 0:
        raise UsageError(f"--older-than ({days}) doit être ≥ 0")
    if days == 0 and args.older_than is None:  # REPERES_RETENTION_DAYS=0: keep until --all
        print(f"Conservation sans limite (REPERES_RETENTION_DAYS=0) : rien supprimé dans {path} ; --all efface tout.")
        return 0
    try:
        deleted = FeedbackStore(path).purge(days)
    except sqlite3.Error as exc:
        raise UsageError(f"Base des avis illisible ({path}) : {exc}") from exc
    which = "tous les avis" if days is None else f"les avis de plus de {days} jour{'s' if days > 1 else ''}"
    print(f"{deleted} avis supprimé{'s' if deleted > 1 else ''} ({which}) dans {path}.")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from eval.bench import DEFAULT_OUT, format_table, run_bench, write_json

    try:
        sizes = [int(v.replace("_", "")) for v in args.sizes.split(",") if v.strip()]
    except ValueError as exc:
        raise UsageError(
            f"--sizes « {args.sizes} » : des nombres de passages séparés par des virgules (ex. 10000,100000)"
        ) from exc
    if any(n < 1 for n in sizes) or args.repeats < 1:
        raise UsageError("--sizes et --repeats doivent être des nombres ≥ 1")
    report = run_bench(_settings(args), sizes=sizes, repeats=args.repeats, progress=not args.no_progress)
    out = args.out or DEFAULT_OUT
    write_json(report, out)
    print(format_table(report))
    print(f"Résultats : {out}")
    return 0


COMMANDS = {
    "bench": cmd_bench,
    "ingest": cmd_ingest,
    "chunks": cmd_chunks,
    "actions": cmd_actions,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "eval-drafts": cmd_eval_drafts,
    "feedback": cmd_feedback,
    "purge": cmd_purge,
    "migrate": cmd_migrate,
    "serve": cmd_serve,
}


def main(argv: list[str] | None = None, prefetch: QuestionPrefetch | None = None) -> int:
    """``prefetch``: the question's vector being computed by a helper process (``assistant.launch``)."""
    argv = sys.argv[1:] if argv is None else argv
    if problem := _argument_problem(argv):
        print(f"Erreur : {problem}.", file=sys.stderr)
        return 2
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2, already explained in French)
        return exc.code if isinstance(exc.code, int) else 2
    args.prefetch = prefetch
    try:
        with file_size_limit(Settings.from_env().max_corpus_file_bytes):
            return COMMANDS[args.command](args)
    except (UsageError, SettingsError, IndexNotReady, ConversionError, ValueError) as exc:  # DatasetError too
        print(f"Erreur : {printable(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno is None:  # raised by us with a French message (a missing corpus folder)
            print(f"Erreur : {printable(str(exc))}", file=sys.stderr)
        else:  # from the system (a file that cannot be read or written): in French, never a traceback
            where = f" : {printable(str(exc.filename))}" if exc.filename else ""
            print(f"Erreur : {os_reason(exc)}{where}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu (Ctrl-C).", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one French line; the traceback kept in a private file to report
        trace = _keep_traceback()
        print(
            f"Erreur interne inattendue ({type(exc).__name__}) : {printable(str(exc))[:300]}. Ce n'est pas votre "
            f"saisie : signalez-la à l'équipe en joignant {trace}.",
            file=sys.stderr,
        )
        return 1


def _keep_traceback() -> str:
    """Write the current exception's traceback to a new private file (0600) and return its path."""
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="reperes-erreur-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
    except OSError:
        return "la commande et son message"
    return path


if __name__ == "__main__":
    sys.exit(main())
