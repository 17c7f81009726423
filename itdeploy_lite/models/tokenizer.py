"""The embedded model's word-level tokenizer: one token per PDDL name, parenthesis and separator.

One vocabulary serves every shipped domain (Blocksworld, Rovers, Sokoban, Gripper), so a single
tokenizer file is shared by all embedded checkpoints and a prompt of any domain tokenizes the same way.

Tokens (see :func:`vocabulary`):
    * names after ``(`` (action and predicate names, e.g. ``stack``, ``on``) and names after a space
      (objects and constants, e.g. `` b1``, `` waypoint3``, `` loc_2_5``) - each name exists in both forms;
    * ``(``, `` (``, ``)``, ``\\n`` and a few separators (``init:``, ``goal:``, ``plan:``, ``;``, ``+``, ``-``);
    * special tokens ``<pad>``, ``<s>``, ``</s>`` (end of a completion), ``<unk>``.

Pre-tokenization is one regular expression, :data:`TOKEN_PATTERN`, instead of a plain whitespace split:
the space before a name is kept inside the name's token, so the ``Fuse`` decoder gives back the exact
text (``"(stack b1 b2)\\n"`` -> ``(`` ``stack`` `` b1`` `` b2`` ``)`` ``\\n`` -> ``"(stack b1 b2)\\n"``)
at the same token count as a whitespace split (one token per word or parenthesis).
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, BOS, EOS, UNK)

#: One match per token: an optional space then ``(``; ``)``; an optional space then a name; a newline.
TOKEN_PATTERN = r" ?\(|\)| ?[^\s()]+|\n"

#: Separators the prompt and completion formats use (see :mod:`itdeploy_lite.prompts`).
SEPARATORS: tuple[str, ...] = ("init:", "goal:", "plan:", ";", "+", "-")

#: The largest names in the vocabulary, per domain. They cover every split of
#: :mod:`itdeploy_lite.planning.generators.splits` with a margin (Blocksworld names b1..b10, Rovers up to
#: 2 rovers / 8 waypoints / 2 cameras / 3 objectives, Sokoban 7x7 grids with 3 boxes, Gripper 8 balls).
#: Larger tasks need a larger vocabulary (and a model trained on it): their names become ``<unk>``.
LIMITS: dict[str, int] = {
    "blocks": 20,  # b1..b20
    "rovers": 4,  # rover0..rover3 (+ rover<k>store)
    "waypoints": 12,  # waypoint0..waypoint11
    "cameras": 4,  # camera0..camera3
    "objectives": 6,  # objective0..objective5
    "grid": 9,  # loc_1_1..loc_9_9
    "boxes": 6,  # box1..box6
    "balls": 12,  # ball1..ball12
}

# Action and predicate names of the shipped domain files (data/domains/*/domain.pddl).
ACTIONS: dict[str, tuple[str, ...]] = {
    "blocksworld": ("pick-up", "put-down", "stack", "unstack"),
    "rovers": (
        "navigate", "sample_soil", "sample_rock", "drop", "calibrate", "take_image",
        "communicate_soil_data", "communicate_rock_data", "communicate_image_data",
    ),
    "sokoban": ("move", "push"),
    "gripper": ("move", "pick", "drop"),
}
PREDICATES: dict[str, tuple[str, ...]] = {
    "blocksworld": ("on", "ontable", "clear", "handempty", "holding"),
    "rovers": (
        "at", "at_lander", "can_traverse", "equipped_for_soil_analysis", "equipped_for_rock_analysis",
        "equipped_for_imaging", "empty", "full", "have_rock_analysis", "have_soil_analysis", "calibrated",
        "supports", "visible", "have_image", "communicated_soil_data", "communicated_rock_data",
        "communicated_image_data", "at_soil_sample", "at_rock_sample", "visible_from", "store_of",
        "calibration_target", "on_board",
    ),
    "sokoban": ("at-robot", "at", "adjacent", "clear"),
    "gripper": ("room", "ball", "gripper", "at-robby", "at", "free", "carry"),
}


def object_names() -> list[str]:
    """Every object and constant name of the shipped domains up to :data:`LIMITS`, in a fixed order."""
    L = LIMITS
    names = [f"b{i}" for i in range(1, L["blocks"] + 1)]
    names += [f"rover{i}" for i in range(L["rovers"])] + [f"rover{i}store" for i in range(L["rovers"])]
    names += [f"waypoint{i}" for i in range(L["waypoints"])]
    names += [f"camera{i}" for i in range(L["cameras"])] + [f"objective{i}" for i in range(L["objectives"])]
    names += ["general", "colour", "high_res", "low_res"]
    names += [f"loc_{r}_{c}" for r in range(1, L["grid"] + 1) for c in range(1, L["grid"] + 1)]
    names += [f"box{i}" for i in range(1, L["boxes"] + 1)] + ["up", "down", "left", "right"]
    names += ["rooma", "roomb", "left", "right"] + [f"ball{i}" for i in range(1, L["balls"] + 1)]
    return names


def vocabulary() -> list[str]:
    """The token list, in id order: special tokens, structure, then each name bare and with a leading space.

    Returns:
        A list of distinct strings; a token's id is its index.
    """
    words = list(SEPARATORS)
    for domain in ACTIONS:
        words += list(ACTIONS[domain]) + list(PREDICATES[domain])
    words += object_names()
    tokens = list(SPECIAL_TOKENS) + ["(", " (", ")", "\n"]
    seen = set(tokens)
    for word in words:
        for token in (word, " " + word):
            if token not in seen:
                seen.add(token)
                tokens.append(token)
    return tokens


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Build the shared word-level tokenizer (no training: the vocabulary is fixed by the domains).

    Returns:
        A ``PreTrainedTokenizerFast`` with ``pad/bos/eos/unk`` set, ``padding_side="left"`` (for batched
        generation) and no automatically added special tokens (prompts start with ``init:``; completions
        end with ``</s>`` written in the text). ``save_pretrained(folder)`` then
        ``AutoTokenizer.from_pretrained(folder)`` gives it back.
    """
    vocab = {token: i for i, token in enumerate(vocabulary())}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(TOKEN_PATTERN), behavior="isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="left",
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
    )
