"""A small language whose true probabilities are known exactly (chapter 6, offline).

The offline miniature of the OPT-125m experiment cannot use wikitext2, so it draws its corpus from
a probabilistic grammar written for the course. A *sentence* picks one construction (a template
such as ``the ADJ NOUN VERB the NOUN .``) with a known probability, then fills each slot
independently with a word of that slot's class, drawn from a Zipf law over the class's words (the
order of the words in each law is shuffled by the language's seed). Sentences are independent.

Because every class has its own words and no two constructions share a sequence of classes, each
sentence has exactly one derivation, so its probability is a product of known factors. The module
computes:

- the exact log-probability of any text, word by word, conditioned on the sentence prefix
  (:meth:`Language.word_logprobs`): words the language cannot produce get ``-inf``;
- the entropy rate per word (:meth:`Language.entropy_per_word`), the best test loss any model can
  reach;
- the *rare* words (the tail of each class's Zipf law that holds ``rare_tail`` of its mass) and the
  rare constructions (probability at most ``rare_construction_max``), with their exact expected
  shares, so that the loss of the tails can be measured generation by generation
  (:meth:`Language.text_stats`).

The vocabulary is themed on the paper's Example 1 (Somerset church towers), so that the
Somerset-style prompt of the miniature is a sentence of the language.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_int, check_nonnegative

ADJ = (
    "old tall great small grey stone fine early late high narrow broad plain rich quiet ancient "
    "square slender heavy bright dark lower upper gilded lofty ruined weathered noble humble "
    "famous local northern southern western eastern wooden golden simple elegant crooked"
).split()
NOUN = (
    "tower church mason bell village abbey window spire nave chapel bishop parish porch roof "
    "arch wall choir font aisle vicar priest builder carpenter merchant lord monk pilgrim market "
    "bridge manor castle hall gate yard field river hill road cross pinnacle buttress parapet "
    "gargoyle screen pulpit altar bench beam stair vault jackrabbit hare sheep raven owl fox "
    "orchard mill barn well"
).split()
VERB = (
    "built raised carved repaired designed finished rebuilt painted visited blessed praised "
    "extended replaced decorated founded restored admired guarded crowned endowed measured "
    "copied moved opened closed described recorded drew faced sheltered lifted shaped dressed "
    "sold bought honoured feared followed served watched"
).split()
PLACE = (
    "somerset wells bath taunton glastonbury frome yeovil bruton ilminster wrington banwell "
    "axbridge cheddar shepton crewkerne chard dunster minehead bridgwater langport somerton "
    "martock evercreech mells huish kingsbury wedmore pilton ditcheat batcombe"
).split()
YEAR = [str(y) for y in range(1300, 1500, 10)]

CLASSES: dict[str, tuple[str, ...]] = {
    "ADJ": tuple(ADJ),
    "NOUN": tuple(NOUN),
    "VERB": tuple(VERB),
    "PLACE": tuple(PLACE),
    "YEAR": tuple(YEAR),
}

#: The constructions and their probabilities. Upper-case items are word classes, the rest are
#: literal words. The last four are the language's rare constructions.
CONSTRUCTIONS: tuple[tuple[str, float], ...] = (
    ("the ADJ NOUN VERB the NOUN .", 0.24),
    ("the NOUN of PLACE VERB a ADJ NOUN .", 0.20),
    ("in YEAR the NOUN VERB the NOUN .", 0.14),
    ("a ADJ NOUN was VERB by the NOUN of PLACE .", 0.12),
    ("the NOUN and the NOUN VERB the ADJ NOUN .", 0.10),
    ("many a NOUN in PLACE was VERB before YEAR .", 0.08),
    ("the NOUN VERB the NOUN that the NOUN VERB .", 0.05),
    ("it is said that the ADJ NOUN VERB the NOUN .", 0.03),
    ("never had the NOUN VERB so ADJ a NOUN .", 0.02),
    ("why was the NOUN VERB by the ADJ NOUN ?", 0.015),
    ("neither the NOUN nor the NOUN VERB the NOUN of PLACE .", 0.005),
)

#: Words that end a sentence.
SENTENCE_END = frozenset({".", "?"})

#: The miniature's Example-1 prompt, in the language: a sentence about Somerset towers, then an
#: unfinished one for the model to complete.
SOMERSET_SENTENCE = (
    "many a tower in somerset was built before 1360 . a tall tower was built by the mason of"
)

_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class TextStats:
    """Measures of a text under the true language (see :meth:`Language.text_stats`)."""

    n_words: int  #: words scored (valid ones and first errors of their sentence)
    n_invalid: int  #: words where a sentence leaves the language (first error of a sentence)
    logprob: float  #: sum of log-probabilities of the valid scored words (nats)
    n_slot_words: int  #: valid scored words that fill a class slot
    n_rare_words: int  #: of those, words in the rare tail of their class
    n_complete: int  #: complete sentences that start in the scored region
    n_sentences: int  #: of those, sentences the language can produce (grammatical)
    n_rare_sentences: int  #: of those, sentences built by a rare construction
    words: frozenset = field(default_factory=frozenset)  #: distinct valid slot words
    constructions: frozenset = field(default_factory=frozenset)  #: constructions used


@dataclass(frozen=True)
class Language:
    """The course's probabilistic grammar (chapter 6).

    Parameters
    ----------
    seed : int
        Shuffles which word of each class is frequent.
    zipf_exponent : float
        Exponent ``s`` of the Zipf law ``p(k) ∝ (k + 1)^-s`` over each class's words.
    rare_tail : float
        A class's rare words are its least probable words that together hold at most this share
        of the class's probability.
    rare_construction_max : float
        Constructions with probability at most this are rare.
    """

    seed: int = 0
    zipf_exponent: float = 1.1
    rare_tail: float = 0.2
    rare_construction_max: float = 0.03

    def __post_init__(self):
        check_int("seed", self.seed, minimum=0)
        check_nonnegative("zipf_exponent", self.zipf_exponent)
        if not 0 < self.rare_tail < 1:
            raise ValueError(f"rare_tail must be in (0, 1) (got {self.rare_tail!r})")
        if not 0 <= self.rare_construction_max < 1:
            raise ValueError(
                f"rare_construction_max must be in [0, 1) (got {self.rare_construction_max!r})"
            )
        rng = np.random.default_rng(self.seed)
        word_probs: dict[str, dict[str, float]] = {}
        word_class: dict[str, str] = {}
        rare: set[str] = set()
        for name, words in CLASSES.items():
            order = rng.permutation(len(words))
            weights = (np.arange(len(words)) + 1.0) ** -self.zipf_exponent
            weights /= weights.sum()
            probs = {words[i]: float(w) for i, w in zip(order, weights, strict=True)}
            word_probs[name] = probs
            # The rarest words whose cumulative mass stays within rare_tail.
            tail = np.cumsum(weights[::-1])
            n_rare = int(np.searchsorted(tail, self.rare_tail + 1e-12, side="right"))
            rare.update(words[i] for i in order[len(words) - n_rare :])
            for w in words:
                if w in word_class:
                    raise AssertionError(f"word {w!r} is in two classes")
                word_class[w] = name
        templates = tuple(tuple(t.split()) for t, _ in CONSTRUCTIONS)
        literals = {w for t in templates for w in t if w not in CLASSES}
        if literals & set(word_class):
            raise AssertionError(
                f"literal words are also class words: {literals & set(word_class)}"
            )
        object.__setattr__(self, "_word_probs", word_probs)
        object.__setattr__(self, "_word_class", word_class)
        object.__setattr__(self, "_rare_words", frozenset(rare))
        object.__setattr__(self, "_templates", templates)
        object.__setattr__(self, "_template_probs", np.array([p for _, p in CONSTRUCTIONS]))

    # --- the language's description -----------------------------------------------------------

    @property
    def templates(self) -> tuple[tuple[str, ...], ...]:
        return self._templates

    @property
    def template_probs(self) -> np.ndarray:
        return self._template_probs.copy()

    @property
    def rare_words(self) -> frozenset[str]:
        """Words in the rare tail of their class."""
        return self._rare_words

    @property
    def rare_templates(self) -> tuple[int, ...]:
        """Indices of the rare constructions."""
        return tuple(
            int(i) for i in np.flatnonzero(self._template_probs <= self.rare_construction_max)
        )

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Every word of the language (class words and literals), sorted."""
        literals = {w for t in self._templates for w in t if w not in CLASSES}
        return tuple(sorted(set(self._word_class) | literals))

    def word_prob(self, word: str) -> float:
        """Probability of ``word`` in a slot of its class (0 for a literal or unknown word)."""
        cls = self._word_class.get(word)
        return self._word_probs[cls][word] if cls else 0.0

    def expected_stats(self) -> dict[str, float]:
        """Exact large-sample values of the measures of :meth:`text_stats` for the true language.

        ``rare_word_share``: share of slot words that are rare; ``rare_sentence_share``: share of
        sentences built by a rare construction; ``words_per_sentence``; ``entropy_per_word``
        (nats): the lowest reachable mean negative log-likelihood per word.
        """
        p = self._template_probs
        slots = np.array([sum(w in CLASSES for w in t) for t in self._templates])
        lengths = np.array([len(t) for t in self._templates])
        tail = {
            c: sum(pr for w, pr in self._word_probs[c].items() if w in self._rare_words)
            for c in CLASSES
        }
        rare_slots = np.array([sum(tail[w] for w in t if w in CLASSES) for t in self._templates])
        return {
            "rare_word_share": float(p @ rare_slots / (p @ slots)),
            "rare_sentence_share": float(p[list(self.rare_templates)].sum()),
            "words_per_sentence": float(p @ lengths),
            "entropy_per_word": self.entropy_per_word(),
        }

    def word_mass(self, words) -> float:
        """Share of the true slot-word mass held by ``words`` (each word weighted by its
        probability per slot word: how often its class fills a slot, times its law)."""
        share = self._class_share()
        return float(
            sum(
                share[self._word_class[w]] * self.word_prob(w)
                for w in words
                if w in self._word_class
            )
        )

    def rare_mass_kept(self, words) -> float:
        """Share of the rare words' true mass held by the rare words among ``words``: 1 when
        every rare word still appears, falling as the tail is lost."""
        return self.word_mass(set(words) & self._rare_words) / self.word_mass(self._rare_words)

    def construction_mass(self, constructions) -> float:
        """True probability mass of a set of construction indices."""
        return float(sum(self._template_probs[list(constructions)])) if constructions else 0.0

    def _class_share(self) -> dict[str, float]:
        p = self._template_probs
        counts = {
            c: float(sum(pt * t.count(c) for pt, t in zip(p, self._templates, strict=True)))
            for c in CLASSES
        }
        total = sum(counts.values())
        return {c: v / total for c, v in counts.items()}

    def entropy_per_word(self) -> float:
        """Entropy rate of the language in nats per word (sentence entropy / mean length)."""
        p = self._template_probs
        h_class = {c: -sum(q * math.log(q) for q in self._word_probs[c].values()) for c in CLASSES}
        h_sentence = float(-(p * np.log(p)).sum()) + sum(
            pt * sum(h_class[w] for w in t if w in CLASSES)
            for pt, t in zip(p, self._templates, strict=True)
        )
        return float(h_sentence / float(p @ np.array([len(t) for t in self._templates])))

    # --- sampling -------------------------------------------------------------------------------

    def sample_sentences(self, n: int, seed, temperature: float = 1.0) -> list[str]:
        """Draw ``n`` sentences.

        ``temperature`` > 1 flattens every law (``p^(1/T)`` renormalised), giving a related
        language with the same words and constructions but fatter tails: the offline
        "pretraining" corpus uses it, as OPT's web corpus differs from wikitext2.
        """
        n = check_int("n", n, minimum=0)
        temperature = check_nonnegative("temperature", temperature)
        if temperature == 0:
            raise ValueError("temperature must be > 0 (got 0)")
        rng = np.random.default_rng(seed)

        def tempered(probs: np.ndarray) -> np.ndarray:
            q = probs ** (1.0 / temperature)
            return q / q.sum()

        t_idx = rng.choice(len(self._templates), size=n, p=tempered(self._template_probs))
        draws = {}
        for c, law in self._word_probs.items():
            words = list(law)
            probs = tempered(np.array([law[w] for w in words]))
            draws[c] = (words, probs)
        out = []
        for i in t_idx:
            parts = []
            for item in self._templates[i]:
                if item in CLASSES:
                    words, probs = draws[item]
                    parts.append(words[rng.choice(len(words), p=probs)])
                else:
                    parts.append(item)
            out.append(" ".join(parts))
        return out

    def sample_text(
        self, n_sentences: int, seed, temperature: float = 1.0, sentences_per_line: int = 8
    ) -> str:
        """``n_sentences`` sentences as lines ("paragraphs") of ``sentences_per_line``."""
        sentences = self.sample_sentences(n_sentences, seed, temperature)
        lines = [
            " ".join(sentences[i : i + sentences_per_line])
            for i in range(0, len(sentences), sentences_per_line)
        ]
        return "\n".join(lines) + ("\n" if lines else "")

    # --- scoring --------------------------------------------------------------------------------

    def _slot_prob(self, item: str, word: str) -> float:
        if item in CLASSES:
            return self._word_probs[item].get(word, 0.0)
        return 1.0 if item == word else 0.0

    def word_logprobs(self, words: list[str], start_known: bool = True) -> list[float | None]:
        """Exact ``log p(word | sentence prefix)`` for each word of a word sequence.

        Sentences restart after ``.`` or ``?``. The first word of a sentence that the language
        cannot produce after its prefix gets ``-inf``; the rest of that sentence cannot be
        scored (its prefix is impossible) and gets ``None``, as do, with ``start_known=False``
        (a text that starts mid-sentence), the words before the first sentence end.
        """
        out: list[float | None] = []
        # None: at a sentence start; False: prefix unknown or impossible; else template weights
        weights = None if start_known else False
        position = 0
        for word in words:
            if weights is False:
                out.append(None)
            else:
                if weights is None:
                    weights = self._template_probs.copy()
                new = np.array(
                    [
                        w * self._slot_prob(t[position], word) if position < len(t) else 0.0
                        for w, t in zip(weights, self._templates, strict=True)
                    ]
                )
                new_total = new.sum()
                if new_total > 0:
                    out.append(math.log(new_total / weights.sum()))
                    weights = new
                else:
                    out.append(-math.inf)
                    weights = False
                position += 1
            if word in SENTENCE_END:
                weights, position = None, 0
        return out

    def sentence_logprob(self, sentence: str) -> float:
        """Exact log-probability of one complete sentence (``-inf`` if the language lacks it)."""
        words = sentence.split()
        if not words or words[-1] not in SENTENCE_END:
            return -math.inf
        lps = self.word_logprobs(words)
        return -math.inf if any(lp is None or lp == -math.inf for lp in lps) else float(sum(lps))

    def parse(self, sentence_words: list[str]) -> int | None:
        """Index of the construction that derives a complete sentence, or None."""
        for i, t in enumerate(self._templates):
            if len(t) == len(sentence_words) and all(
                self._slot_prob(item, w) > 0 for item, w in zip(t, sentence_words, strict=True)
            ):
                return i
        return None

    def text_stats(
        self,
        text: str,
        score_from: int = 0,
        start_known: bool = False,
        last_word_complete: bool = True,
    ) -> TextStats:
        """Measure a text under the language.

        Parameters
        ----------
        text : str
            Words separated by whitespace (a decoded prompt plus its continuation).
        score_from : int
            Character offset: only words starting at or after it are counted (the continuation);
            earlier words only set the sentence prefix.
        start_known : bool
            Whether ``text`` starts at a sentence start. A block cut from a token stream usually
            does not: words before the first sentence end then set no prefix and are not scored.
        last_word_complete : bool
            False when the text may end inside a word (a block ends at a token boundary): its
            last word is then not scored.
        """
        matches = list(_WORD_RE.finditer(text))
        words = [m.group() for m in matches]
        lps = self.word_logprobs(words, start_known=start_known)
        n_words = n_invalid = n_slot = n_rare = n_complete = n_sent = n_rare_sent = 0
        used: set[int] = set()
        logprob = 0.0
        seen: set[str] = set()
        sentence: list[str] = []
        sentence_counted = False  # the sentence starts inside the scored region
        rare_templates = set(self.rare_templates)
        cut = (
            None if last_word_complete or not words or words[-1] in SENTENCE_END else len(words) - 1
        )
        for i, (m, w, lp) in enumerate(zip(matches, words, lps, strict=True)):
            scored = m.start() >= score_from and lp is not None and i != cut
            if not sentence:
                sentence_counted = scored
            sentence.append(w)
            if scored:
                n_words += 1
                if lp == -math.inf:
                    n_invalid += 1
                else:
                    logprob += lp
                    if w in self._word_class:
                        n_slot += 1
                        n_rare += w in self._rare_words
                        seen.add(w)
            if w in SENTENCE_END:
                if sentence_counted:
                    n_complete += 1
                    t = self.parse(sentence)
                    if t is not None:
                        n_sent += 1
                        n_rare_sent += t in rare_templates
                        used.add(t)
                sentence = []
        return TextStats(
            n_words=n_words,
            n_invalid=n_invalid,
            logprob=logprob,
            n_slot_words=n_slot,
            n_rare_words=n_rare,
            n_complete=n_complete,
            n_sentences=n_sent,
            n_rare_sentences=n_rare_sent,
            words=frozenset(seen),
            constructions=frozenset(used),
        )
