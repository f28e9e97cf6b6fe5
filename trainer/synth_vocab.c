/* synth_vocab.c: the words item names, category names and search queries of `ulm synth` are made of.
 *
 * Word ids: 1..40 adjectives, 41..70 colours/materials, then the category nouns, then the category
 * qualifiers ("kids", "outdoor", ...). Every id fits a byte, which lets a query pack into 32 bits. */
#include "synth.h"

static const char *const adjectives[ULM_SYNTH_NADJ] = {
    "classic", "modern", "organic", "deluxe",   "compact", "soft",   "strong", "light",    "smart",     "wireless",
    "slim",    "ultra",  "natural", "fresh",    "bold",    "smooth", "rapid",  "quiet",    "cozy",      "essential",
    "pro",     "max",    "basic",   "elegant",  "rugged",  "sleek",  "gentle", "pure",     "urban",     "nordic",
    "royal",   "golden", "silver",  "midnight", "sunny",   "arctic", "wild",   "everyday", "signature", "original"};

static const char *const materials[ULM_SYNTH_NMAT] = {
    "black",  "white",  "red",     "blue",   "green", "grey",  "navy",    "pink",  "beige", "brown",
    "bamboo", "cotton", "leather", "steel",  "wool",  "linen", "ceramic", "glass", "oak",   "velvet",
    "denim",  "silk",   "copper",  "marble", "rose",  "olive", "ivory",   "amber", "coral", "teal"};

/* noun, repurchase cycle in days (0 = durable), median price, return rate. */
const ulm_synth_base ulm_synth_bases[] = {
    {"coffee", 21, 12.0f, 0.01f},    {"tea", 30, 8.0f, 0.01f},        {"shampoo", 45, 9.0f, 0.02f},
    {"soap", 30, 5.0f, 0.01f},       {"toothpaste", 40, 4.0f, 0.01f}, {"vitamins", 30, 20.0f, 0.02f},
    {"petfood", 28, 35.0f, 0.02f},   {"diapers", 14, 30.0f, 0.02f},   {"detergent", 35, 14.0f, 0.01f},
    {"razors", 30, 18.0f, 0.02f},    {"candles", 60, 15.0f, 0.03f},   {"protein", 30, 40.0f, 0.02f},
    {"ink", 60, 35.0f, 0.03f},       {"snacks", 10, 5.0f, 0.01f},     {"wine", 20, 18.0f, 0.01f},
    {"batteries", 90, 10.0f, 0.01f}, {"lenses", 30, 30.0f, 0.02f},    {"filters", 90, 20.0f, 0.02f},
    {"shoes", 0, 80.0f, 0.15f},      {"jackets", 0, 120.0f, 0.12f},   {"jeans", 0, 60.0f, 0.15f},
    {"dresses", 0, 70.0f, 0.18f},    {"shirts", 0, 25.0f, 0.10f},     {"sweaters", 0, 55.0f, 0.12f},
    {"headphones", 0, 90.0f, 0.05f}, {"phones", 0, 450.0f, 0.04f},    {"laptops", 0, 900.0f, 0.04f},
    {"tablets", 0, 350.0f, 0.04f},   {"cameras", 0, 450.0f, 0.05f},   {"watches", 0, 150.0f, 0.06f},
    {"backpacks", 0, 60.0f, 0.06f},  {"lamps", 0, 45.0f, 0.05f},      {"chairs", 0, 150.0f, 0.05f},
    {"desks", 0, 250.0f, 0.05f},     {"cookware", 0, 60.0f, 0.04f},   {"knives", 0, 40.0f, 0.03f},
    {"books", 0, 15.0f, 0.02f},      {"games", 0, 50.0f, 0.03f},      {"toys", 0, 25.0f, 0.04f},
    {"bicycles", 0, 600.0f, 0.04f},  {"tents", 0, 180.0f, 0.05f},     {"mats", 0, 30.0f, 0.04f},
    {"sunglasses", 0, 80.0f, 0.08f}, {"jewelry", 0, 120.0f, 0.07f},   {"bags", 0, 90.0f, 0.08f},
    {"bedding", 0, 70.0f, 0.06f},    {"towels", 0, 25.0f, 0.04f},     {"rugs", 0, 150.0f, 0.07f},
    {"plants", 0, 25.0f, 0.03f},     {"tools", 0, 50.0f, 0.03f},      {"speakers", 0, 120.0f, 0.05f},
    {"keyboards", 0, 70.0f, 0.04f},  {"monitors", 0, 250.0f, 0.04f},  {"perfume", 0, 60.0f, 0.03f},
};
const uint32_t ulm_synth_nbases = sizeof ulm_synth_bases / sizeof ulm_synth_bases[0];

/* Qualifier 0 is "none": the first pass over the nouns is plain, later passes are qualified. */
const ulm_synth_qual ulm_synth_quals[] = {
    {"", 1.0f},     {"kids", 0.7f},  {"outdoor", 1.2f}, {"premium", 2.2f}, {"travel", 0.9f},
    {"home", 1.0f}, {"sport", 1.1f}, {"eco", 1.3f},     {"vintage", 1.5f}, {"mini", 0.6f},
};
const uint32_t ulm_synth_nquals = sizeof ulm_synth_quals / sizeof ulm_synth_quals[0];

uint32_t ulm_synth_adj_word(uint32_t k) { return 1 + k; }
uint32_t ulm_synth_mat_word(uint32_t k) { return 1 + ULM_SYNTH_NADJ + k; }
uint32_t ulm_synth_noun_word(uint32_t k) { return 1 + ULM_SYNTH_NADJ + ULM_SYNTH_NMAT + k; }
uint32_t ulm_synth_qual_word(uint32_t k) { return ULM_SYNTH_NADJ + ULM_SYNTH_NMAT + ulm_synth_nbases + k; }

uint32_t ulm_synth_nwords(void) { return ULM_SYNTH_NADJ + ULM_SYNTH_NMAT + ulm_synth_nbases + ulm_synth_nquals - 1; }

const char *ulm_synth_word(uint32_t id) {
    if (id == 0 || id > ulm_synth_nwords()) return "";
    id--;
    if (id < ULM_SYNTH_NADJ) return adjectives[id];
    id -= ULM_SYNTH_NADJ;
    if (id < ULM_SYNTH_NMAT) return materials[id];
    id -= ULM_SYNTH_NMAT;
    if (id < ulm_synth_nbases) return ulm_synth_bases[id].noun;
    id -= ulm_synth_nbases;
    return ulm_synth_quals[id + 1].word;
}
