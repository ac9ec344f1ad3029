"""Request limits per API, dated and sourced: OpenAI's (`toolkit.payload.OBSERVED_LIMITS`),
Claude's and Gemini's (research/vision-api-facts.md sections 5.3, 6 and 8)."""

from toolkit.payload import OBSERVED_LIMITS, RequestLimits

ANTHROPIC_LIMITS = RequestLimits(
    max_request_bytes=32_000_000,
    max_images=100,
    max_image_bytes=10_000_000,
    image_bytes_as="base64",
    max_side=8000,
    many_images=20,
    many_images_max_side=2000,
    as_of="2026-11-23",
    source=(
        "Claude vision guide (platform.claude.com/docs/en/build-with-claude/vision, read "
        "2026-11-23; research/vision-api-facts.md §5.3): '10 MB base64-encoded' per image via "
        "the Claude API; 'The maximal dimensions per image are 8000x8000 px', 2000x2000 px in "
        "a request of more than 20 images; 100 images per request for models with a "
        "200k-token context window, 600 for the others (the lower is planned for: no "
        "context windows are held here); 32 MB per request on standard endpoints"
    ),
)
GEMINI_LIMITS = RequestLimits(
    max_request_bytes=20_000_000,
    max_images=3600,
    max_image_bytes=20_000_000,
    as_of="2026-11-23",
    source=(
        "Gemini image-understanding page (ai.google.dev/gemini-api/docs/image-understanding; "
        "research/vision-api-facts.md §6, §8 #11): 'Inline image data limits your total "
        "request size ... to 20MB'; at most 3,600 image files per request. The file-input "
        "page's 100 MB per request (raised 2026-01-08, per a third party) is documented, "
        "not tested: 20 MB is planned for"
    ),
)
LIMITS = {
    "chat": OBSERVED_LIMITS,
    "responses": OBSERVED_LIMITS,
    "anthropic": ANTHROPIC_LIMITS,
    "gemini": GEMINI_LIMITS,
}
