"""fragments.mark_out_of_band: the section's root element (the first with an id) gets the
out-of-band morph; a section without one is a programming error, caught at once."""
import pytest

from webapp.fragments import OOB_SWAP, mark_out_of_band


def test_the_root_element_is_marked():
    assert mark_out_of_band('\n<section id="sec-a" class="card"><p id="x">a</p></section>') == \
        f'\n<section {OOB_SWAP} id="sec-a" class="card"><p id="x">a</p></section>'


def test_attributes_before_the_id_and_tags_without_one_are_skipped():
    html = '<link rel="stylesheet" href="/s.css"><div class="complete" id="inspection-status">…</div>'
    assert mark_out_of_band(html) == \
        f'<link rel="stylesheet" href="/s.css"><div {OOB_SWAP} class="complete" id="inspection-status">…</div>'


def test_a_section_without_an_id_is_refused():
    with pytest.raises(ValueError):
        mark_out_of_band('<section class="card">…</section>')
