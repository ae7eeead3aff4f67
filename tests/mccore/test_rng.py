"""mccore.rng: the one randomness convention."""

import numpy as np
import pytest

import mccore.rng
from mccore.errors import InvalidParameterError
from mccore.rng import (
    child,
    recorded_seed,
    resolve_seed,
    seed_sequence,
    stream,
    temperature_key,
)


def test_int_seed_round_trips_through_the_recorded_seed():
    seq = seed_sequence(12345)
    assert recorded_seed(seq) == 12345
    a = np.random.default_rng(seed_sequence(recorded_seed(seq))).integers(1 << 62, size=4)
    b = np.random.default_rng(seq).integers(1 << 62, size=4)
    assert np.array_equal(a, b)


def test_none_draws_fresh_entropy_and_records_it():
    s1, s2 = seed_sequence(None), seed_sequence(None)
    assert recorded_seed(s1) != recorded_seed(s2)
    again = seed_sequence(recorded_seed(s1))
    assert np.array_equal(stream(again, 3).random(5), stream(s1, 3).random(5))
    assert 0 <= resolve_seed(None) < 2**63


def test_generator_argument_yields_a_recordable_seed():
    seq = seed_sequence(np.random.default_rng(7))
    assert isinstance(recorded_seed(seq), int)
    # the same Generator state gives the same derived seed
    assert recorded_seed(seed_sequence(np.random.default_rng(7))) == recorded_seed(seq)
    assert resolve_seed(np.random.default_rng(7)) == recorded_seed(seq)


def test_resolve_seed_gives_one_int_that_reproduces_a_spawned_sequence_alone():
    assert resolve_seed(42) == 42
    spawned = child(5, 1)
    seed = resolve_seed(spawned)
    assert seed == resolve_seed(child(5, 1)) != resolve_seed(child(5, 2))
    assert isinstance(seed, int) and 0 <= seed < 2**63


def test_streams_are_keyed_by_the_item_not_by_call_order():
    first = [stream(5, key).random() for key in (0, 1, 2)]
    reverse = [stream(5, key).random() for key in (2, 1, 0)][::-1]
    assert first == reverse
    assert len(set(first)) == 3
    assert child(child(5, 1), 2).spawn_key == (1, 2)


def test_temperature_key_depends_on_the_value_only():
    assert temperature_key(2.269) == temperature_key(2.2690000001)
    assert temperature_key(2.269) != temperature_key(2.27)
    keys = [temperature_key(T) for T in (1.5, 2.269185, 3.5)]
    more = [temperature_key(T) for T in (1.0, 1.5, 2.269185, 3.5)]
    assert keys == more[1:]


def test_stream_without_a_key_passes_a_generator_through_and_resolves_the_rest():
    g = np.random.default_rng(1)
    assert stream(g) is g
    # an int, a SeedSequence: the Generator of that seed (numbers of default_rng(seed))
    expected = np.random.default_rng(3).random(4)
    assert np.array_equal(stream(3).random(4), expected)
    assert np.array_equal(stream(seed_sequence(3)).random(4), expected)
    # with a key a Generator is a seed source like any other: one seed is drawn from it
    h = np.random.default_rng(1)
    assert np.array_equal(stream(h, 2).random(3),
                          stream(seed_sequence(np.random.default_rng(1)), 2).random(3))


def test_the_public_helpers_are_these_six():
    assert sorted(mccore.rng.__all__) == ["child", "recorded_seed", "resolve_seed",
                                          "seed_sequence", "stream", "temperature_key"]


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, [1, 2]])
def test_bad_rng_arguments_are_refused_with_the_house_message(bad):
    with pytest.raises(InvalidParameterError, match="rng must be an integer >= 0"):
        seed_sequence(bad)
