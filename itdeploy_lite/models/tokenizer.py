"""The embedded model's word-level tokenizer: one token per PDDL name, parenthesis and separator.

One vocabulary serves every built-in domain (Blocksworld, Rovers, Sokoban, Gripper, and the other seven
IPC 2023 learning-track domains: Childsnack, Ferry, Floortile, Miconic, Satellite, Spanner, Transport), so
a prompt of any domain tokenizes the same way in every embedded checkpoint.

The vocabulary only ever grows at its end (:data:`EXTENSIONS`): the first four domains' tokens keep the
ids they had when Blocksworld's, Rovers' and Sokoban's checkpoints were trained, and those checkpoints
ship their own (shorter) tokenizer files. A checkpoint's tokenizer is therefore always a prefix of
:func:`vocabulary`, and a checkpoint never sees an id beyond its own embedding table.

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
    """Every object and constant name of the first four domains up to :data:`LIMITS`, in a fixed order."""
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


def _numbered(prefix: str, last: int, first: int = 1) -> list[str]:
    return [f"{prefix}{i}" for i in range(first, last + 1)]


#: The seven other IPC 2023 learning-track domains (``data/domains/<name>/domain.pddl``), appended after
#: the first four in this order: domain -> (action names, predicate names, object and constant names).
#: Object names cover every split and pool of :mod:`itdeploy_lite.planning.generators.splits` with a margin
#: (the largest held-out tasks: Childsnack 6 children / 3 trays / 4 tables, Ferry 6 cars / 6 locations,
#: Floortile 5 x 4 tiles / 4 robots, Miconic 8 floors / 6 passengers, Satellite 3 / 4 / 3 / 6, Spanner
#: 6 spanners / 5 nuts / 7 locations, Transport 3 vehicles / 5 packages / 7 locations / capacity 3; the
#: pretrain splits draw numbered names from pools of up to 8, e.g. ``tray1..tray6``, ``v1..v7``).
EXTENSIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "childsnack": (
        ("make_sandwich", "make_sandwich_no_gluten", "put_on_tray", "serve_sandwich", "serve_sandwich_no_gluten",
         "move_tray"),
        ("at_kitchen_bread", "at_kitchen_content", "at_kitchen_sandwich", "no_gluten_bread", "no_gluten_content",
         "ontray", "no_gluten_sandwich", "allergic_gluten", "not_allergic_gluten", "served", "waiting", "at",
         "notexist"),
        tuple(["kitchen"] + _numbered("child", 10) + _numbered("sandw", 10) + _numbered("bread", 10)
              + _numbered("content", 10) + _numbered("tray", 10) + _numbered("table", 10)),
    ),
    "ferry": (
        ("sail", "board", "debark"),
        ("at-ferry", "at", "empty-ferry", "on"),
        tuple(_numbered("car", 10) + _numbered("loc", 10)),
    ),
    "floortile": (
        ("change_color", "paint_up", "paint_down", "move_up", "move_down", "move_right", "move_left"),
        ("robot-at", "up", "down", "right", "left", "clear", "painted", "robot-has", "available-color",
         "free-color"),
        tuple([f"tile_{r}_{c}" for r in range(0, 7) for c in range(1, 7)] + _numbered("robot", 4)
              + ["white", "black"]),
    ),
    "miconic": (
        ("board", "depart", "up", "down"),
        ("origin", "destin", "above", "boarded", "served", "lift-at"),
        tuple(_numbered("f", 10) + _numbered("p", 10)),
    ),
    "satellite": (
        ("turn_to", "switch_on", "switch_off", "calibrate", "take_image"),
        ("on_board", "supports", "pointing", "power_avail", "power_on", "calibrated", "have_image",
         "calibration_target"),
        tuple(_numbered("sat", 6) + _numbered("ins", 8) + _numbered("mod", 6) + _numbered("dir", 10)),
    ),
    "spanner": (
        ("walk", "pickup_spanner", "tighten_nut"),
        ("at", "carrying", "usable", "link", "tightened", "loose"),
        tuple(["bob", "shed", "gate"] + _numbered("spanner", 10) + _numbered("nut", 10) + _numbered("location", 10)),
    ),
    "transport": (
        ("drive", "pick-up", "drop"),
        ("road", "at", "in", "capacity", "capacity-predecessor"),
        tuple(_numbered("v", 10) + _numbered("p", 12) + _numbered("l", 12) + _numbered("c", 6, first=0)),
    ),
}


def vocabulary() -> list[str]:
    """The token list, in id order: special tokens, structure, then each name bare and with a leading space.

    The first four domains' words come first (ids fixed since their checkpoints were trained), then the
    words of :data:`EXTENSIONS` that are new, so the list only ever grows at its end.

    Returns:
        A list of distinct strings; a token's id is its index.
    """
    words = list(SEPARATORS)
    for domain in ACTIONS:
        words += list(ACTIONS[domain]) + list(PREDICATES[domain])
    words += object_names()
    for actions, predicates, objects in EXTENSIONS.values():
        words += list(actions) + list(predicates) + list(objects)
    tokens = list(SPECIAL_TOKENS) + ["(", " (", ")", "\n"]
    seen = set(tokens)
    for word in words:
        for token in (word, " " + word):
            if token not in seen:
                seen.add(token)
                tokens.append(token)
    return tokens


def object_token_ids(tokenizer) -> list[int]:
    """The ids of this tokenizer's object and constant names with their leading space (`` waypoint3``,
    `` b1``): the tokens that name a ground action's arguments in a plan.

    Args:
        tokenizer: an embedded planner's tokenizer (:func:`build_tokenizer` or a checkpoint's shorter
            prefix of it).

    Returns:
        Sorted ids; empty for any other tokenizer (an LLM's subword vocabulary has no such tokens).
    """
    vocab = tokenizer.get_vocab()
    names = object_names() + [name for _, _, objects in EXTENSIONS.values() for name in objects]
    return sorted({vocab[" " + name] for name in names if " " + name in vocab})


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
