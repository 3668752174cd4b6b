"""Lists of common function words, per language, that the global explanations can hide.

Each list leaves out on purpose the words that carry sentiment or stance although they are short and frequent:
negations (not, nicht, ne, pas, no, non, niet, não), contrast words (but, aber, mais, pero, ma, maar, mas) and
degree words (too, very, so, more, only: sehr, très, muy, molto, zeer, muito). German "zu" and Dutch "te"
are left out too: they also mean "too"."""

from __future__ import annotations

LANGUAGES = {"en": "English", "de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "nl": "Dutch",
             "pt": "Portuguese"}
NO_LIST = "none"  # only the data's own common words are hidden

_LISTS = {
    "en": """
a an the this that these those some any each every all both either neither such
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
and or if then than as because while
of at by for from in into on onto to with without about above below over under up down out off
through between among after before during against upon within
is are was were be been being am has have had having do does did doing will would shall should can
could may might must
which who whom whose what when where why how there here s t d ll re ve m
""",
    "de": """
der die das den dem des ein eine einen einem einer eines dieser diese dieses diesen diesem jener jene jenes
ich mich mir mein meine meinen meinem meiner wir uns unser unsere du dich dir dein deine ihr euch euer
er ihn ihm sein seine seinen seinem seiner sie ihre ihren ihrem ihrer es man sich
und oder wenn dann als wie weil dass ob denn
von zum zur mit bei nach aus in im an am auf für über unter vor hinter neben zwischen durch gegen ohne um
bis seit während
ist sind war waren bin bist gewesen hat habe hast haben hatte hatten wird werden wurde wurden würde kann
können konnte muss müssen soll sollte darf mag möchte
hier da dort wo wer was welche welcher welches wann warum
""",
    "es": """
el la los las lo un una unos unas este esta estos estas ese esa esos esas aquel aquella aquellos aquellas
mi mis tu tus su sus nuestro nuestra nuestros nuestras vuestro vuestra
yo me mí tú te ti él ella ello nosotros nosotras vosotros vosotras ellos ellas le les se nos os
y e o u si que quien quienes cual cuales cuando donde como porque pues
de del al a en con por para sin sobre entre hacia hasta desde durante ante tras bajo
es son era eran ser sido fue fueron está están estaba estaban estar estado ha he has han había habían hay
haber será serán sería puede pueden debe
aquí allí ahí
""",
    "fr": """
le la les l un une des du de d au aux ce cet cette ces mon ma mes ton ta tes son sa ses notre nos votre vos
leur leurs
je j me m moi tu te t toi il elle on nous vous ils elles lui eux se s y en
et ou que qu qui quoi dont où comme car parce quand lorsque
à dans par pour sur sous avec sans chez entre vers depuis pendant avant après
est sont était étaient être été ai as a avons avez ont avait avaient sera seront serait fait faire peut
peuvent doit
ça cela ceci là ici
""",
    "it": """
il lo la i gli le l un uno una questo questa questi queste quello quella quelli quelle
mio mia miei mie tuo tua tuoi tue suo sua suoi sue nostro nostra nostri nostre vostro vostra loro
io me mi tu te ti lui lei egli ella noi ci voi vi essi esse si ne
e ed o od se che chi cui quale quali quando dove come perché
di del dello della dei degli delle a al allo alla ai agli alle da dal dallo dalla dai dagli dalle in nel
nello nella nei negli nelle su sul sullo sulla sui sugli sulle con per tra fra
è sono era erano essere stato stata stati ho hai ha abbiamo avete hanno aveva avevano avere sarà sarebbe
può possono deve
qui qua lì là
""",
    "nl": """
de het een deze dit die dat
ik me mij mijn wij we ons onze jij je jou jouw u uw hij hem zijn zij ze haar hun hen zich
en of als dan omdat terwijl wanneer
van aan in op met voor bij naar uit over onder tussen door tegen zonder om tot sinds tijdens na
is was waren ben bent geweest heb hebt heeft hebben had hadden wordt worden werd werden zal zullen zou
zouden kan kunnen kon moet moeten mag wil
er hier daar waar wie wat welke waarom
""",
    "pt": """
o a os as um uma uns umas este esta estes estas esse essa esses essas aquele aquela isto isso aquilo
meu minha meus minhas teu tua seu sua seus suas nosso nossa nossos nossas
eu me mim tu te ti ele ela nós vós eles elas lhe lhes se nos
e ou que quem qual quais quando onde como porque
de do da dos das em no na nas ao aos à às por pelo pela pelos pelas para com sem sobre entre até desde
durante
é são era eram ser sido foi foram está estão estava estar estado tem têm tinha ter há havia será seria
pode podem deve
aqui ali lá
""",
}
FUNCTION_WORDS = {language: frozenset(words.split()) for language, words in _LISTS.items()}


def function_words(language: str) -> frozenset[str]:
    """The list of ``language`` (a key of LANGUAGES), or none for NO_LIST."""
    return FUNCTION_WORDS.get(language, frozenset())
