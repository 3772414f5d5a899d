# cython: language_level=3, boundscheck=False, wraparound=False
"""The walks over a page's tree that every parse makes, in C: libxml2's nodes read directly, a Python object made
only for what is asked for.

The rest of the parser runs on lxml's Python API, which makes an object for every element or text it touches (and
its XPath engine, a string copy for every attribute it tests). These functions answer the questions asked of every
element of a page (which wear a class name a selector asks for, the text outside scripts, a card's parts) from one
C loop each; ``text.py`` and ``teasers.py`` give their meaning and their Python spelling in their docstrings.

Only lxml's public C API (``etreepublic.pxd``) and libxml2's node structs are used: no libxml2 function is called,
so nothing links against libxml2.
"""

from cpython.unicode cimport (
    PyUnicode_1BYTE_KIND,
    PyUnicode_2BYTE_KIND,
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISSPACE,
    PyUnicode_DATA,
    PyUnicode_DecodeUTF8,
    PyUnicode_FromKindAndData,
    PyUnicode_KIND,
    PyUnicode_READ,
    PyUnicode_WRITE,
)
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, strcmp, strlen, strstr

cimport lxml.includes.etreepublic as cetree
from lxml.includes cimport tree
from lxml.includes.tree cimport xmlAttr, xmlNode

cetree.import_lxml__etree()

cdef enum:
    BUFFER_START = 512
    MAX_TAGS = 16


cdef struct Buffer:
    char* data
    size_t length
    size_t size


cdef inline int _append(Buffer* buffer, const char* text, size_t length) except -1:
    cdef size_t wanted = buffer.length + length
    cdef char* grown
    if wanted > buffer.size:
        while buffer.size < wanted:
            buffer.size = buffer.size * 2 if buffer.size else BUFFER_START
        grown = <char*>realloc(buffer.data, buffer.size)
        if grown is NULL:
            raise MemoryError()
        buffer.data = grown
    memcpy(buffer.data + buffer.length, text, length)
    buffer.length = wanted
    return 0


cdef inline str _decoded(const char* text, size_t length):
    return PyUnicode_DecodeUTF8(text, length, "replace")


cdef inline bint _is_text(xmlNode* node) noexcept nogil:
    return node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE


cdef inline bint _named(xmlNode* node, const char* name) noexcept nogil:
    """Whether ``node`` is an element named ``name`` (its first letter compared first: most are not)."""
    return (node.type == tree.XML_ELEMENT_NODE and node.name[0] == name[0]
            and strcmp(<const char*>node.name, name) == 0)


cdef inline bint _is_code(xmlNode* node) noexcept nogil:
    """A ``script`` or ``style`` element: its text is code, not page text."""
    return (node.type == tree.XML_ELEMENT_NODE and node.name[0] == b"s"
            and (strcmp(<const char*>node.name, "script") == 0 or strcmp(<const char*>node.name, "style") == 0))


cdef inline bint _blank(const char* text) noexcept nogil:
    """Whether XPath's ``normalize-space()`` leaves nothing of ``text``: only space, tab, CR and LF in it."""
    cdef const char* at = text
    while at[0] == b' ' or at[0] == b'\t' or at[0] == b'\r' or at[0] == b'\n':
        at += 1
    return at[0] == 0


cdef xmlAttr* _find(xmlNode* node, const char* name) noexcept nogil:
    """The attribute ``name`` (no namespace) of an element, NULL when it has none."""
    cdef xmlAttr* attribute = node.properties
    while attribute is not NULL:
        if attribute.ns is NULL and attribute.name[0] == name[0] and strcmp(<const char*>attribute.name, name) == 0:
            return attribute
        attribute = attribute.next
    return NULL


cdef const char* _EMPTY = ""


cdef const char* _plain(xmlAttr* attribute) noexcept nogil:
    """An attribute's value when it is held as one text node (as the HTML parser holds every value) or as none
    (``""``), else NULL."""
    cdef xmlNode* value = attribute.children
    if value is NULL:
        return _EMPTY
    if value.next is NULL and _is_text(value):
        return <const char*>value.content if value.content is not NULL else _EMPTY
    return NULL


cdef object _value(xmlNode* node, cetree._Document document, const char* name):
    """``element.get(name)``: the attribute's value as a str, ``None`` when the element has none."""
    cdef xmlAttr* attribute = _find(node, name)
    cdef const char* plain
    if attribute is NULL:
        return None
    plain = _plain(attribute)
    if plain is not NULL:
        return _decoded(plain, strlen(plain))
    return cetree.elementFactory(document, node).get(name.decode())


cdef bint _wears(const char* classes, const char* name) noexcept nogil:
    """Whether the class attribute value ``classes`` holds the class name ``name`` (split at XPath blanks)."""
    cdef size_t length = strlen(name)
    cdef const char* found = strstr(classes, name)
    cdef char before, after
    while found is not NULL:
        before = (found - 1)[0] if found != classes else b' '
        after = found[length]
        if (before == b' ' or before == b'\t' or before == b'\r' or before == b'\n') and (
            after == 0 or after == b' ' or after == b'\t' or after == b'\r' or after == b'\n'
        ):
            return True
        found = strstr(found + 1, name)
    return False


cdef inline xmlNode* _next_in_order(xmlNode* node, xmlNode* top, bint enter) noexcept nogil:
    """The node after ``node`` in document order below ``top`` (NULL at the end), entering its children if
    ``enter``."""
    if enter and node.type == tree.XML_ELEMENT_NODE and node.children is not NULL:
        return node.children
    while node is not top and node.next is NULL:
        node = node.parent
    if node is top:
        return NULL
    return node.next


cdef int _collect(xmlNode* top, Buffer* buffer, bint shown) except -1:
    """Append the text nodes below ``top`` to ``buffer``, in document order; those in scripts and styles too unless
    ``shown``."""
    cdef xmlNode* node = top.children
    cdef bint enter
    while node is not NULL:
        enter = True
        if _is_text(node):
            if node.content is not NULL:
                _append(buffer, <const char*>node.content, strlen(<const char*>node.content))
        elif shown and _is_code(node):
            enter = False
        node = _next_in_order(node, top, enter)
    return 0


cdef str _text_below(xmlNode* top, bint shown):
    cdef xmlNode* only = top.children
    cdef Buffer buffer
    if only is NULL or (shown and _is_code(top)):
        return ""
    if only.next is NULL and _is_text(only):
        return _decoded(<const char*>only.content, strlen(<const char*>only.content)) if only.content else ""
    buffer.data, buffer.length, buffer.size = NULL, 0, 0
    try:
        _collect(top, &buffer, shown)
        return _decoded(buffer.data, buffer.length) if buffer.length else ""
    finally:
        free(buffer.data)


def string_value(cetree._Element element not None) -> str:
    """XPath's ``string()`` of an element: all the text nodes below it, joined."""
    return _text_below(element._c_node, False)


def shown_string(cetree._Element element not None) -> str:
    """The text nodes below an element but those inside scripts and styles, joined."""
    return _text_below(element._c_node, True)


cdef str _run(xmlNode** at):
    """The text of the adjacent text nodes from ``at[0]`` on (lxml's ``.text`` or ``.tail``); ``at[0]`` is left on
    the last of them."""
    cdef xmlNode* node = at[0]
    cdef Buffer buffer
    if node.next is NULL or not _is_text(node.next):
        return _decoded(<const char*>node.content, strlen(<const char*>node.content)) if node.content else ""
    buffer.data, buffer.length, buffer.size = NULL, 0, 0
    try:
        while True:
            if node.content is not NULL:
                _append(&buffer, <const char*>node.content, strlen(<const char*>node.content))
            if node.next is NULL or not _is_text(node.next):
                break
            node = node.next
        at[0] = node
        return _decoded(buffer.data, buffer.length) if buffer.length else ""
    finally:
        free(buffer.data)


cdef bint _run_blank(xmlNode* node) noexcept nogil:
    """Whether the run of adjacent text nodes from ``node`` on shows only XPath blanks."""
    while node is not NULL and _is_text(node):
        if node.content is not NULL and not _blank(<const char*>node.content):
            return False
        node = node.next
    return True


cdef bint _in_code(xmlNode* node) noexcept nogil:
    node = node.parent
    while node is not NULL and node.type == tree.XML_ELEMENT_NODE:
        if _is_code(node):
            return True
        node = node.parent
    return False


def texts_after(cetree._Element element not None, Py_ssize_t limit) -> list:
    """The first ``limit`` texts (``.text`` and ``.tail`` runs) after ``element`` in document order, not inside it,
    outside scripts and styles, that show more than XPath blanks.

    The XPath ``following::text()[normalize-space()][not(ancestor::script or ancestor::style)]``, but with
    adjacent text nodes taken as one, as lxml's ``itertext()`` gives them.
    """
    cdef list found = []
    cdef xmlNode* node = _after(element._c_node)
    while node is not NULL and len(found) < limit:
        if node.type == tree.XML_ELEMENT_NODE:
            node = _after(node) if _is_code(node) or node.children is NULL else node.children
            continue
        if _is_text(node) and (node.prev is NULL or not _is_text(node.prev)):
            if not _run_blank(node) and not _in_code(node):
                found.append(_run(&node))
        node = _after(node)
    return found


cdef xmlNode* _after(xmlNode* node) noexcept nogil:
    """The node after ``node`` and all below it in document order; NULL at the end of the document."""
    while node.next is NULL:
        node = node.parent
        if node is NULL or node.type != tree.XML_ELEMENT_NODE:
            return NULL
    return node.next


def survey(cetree._Element root not None, dict known, names_of, tuple tags) -> tuple:
    """One walk over the elements from ``root`` down: ``(classed, index, pooled)``.

    ``classed`` maps each element wearing a class name that selectors ask for, in document order, to the asked
    names it wears, ``index`` each asked name to the elements wearing it. ``known`` holds the answer for class
    attribute values seen before, ``names_of(value)`` gives (and remembers) it for others. ``pooled`` maps each of
    ``tags`` to its elements, in document order. The Python spelling, lxml's ``//@class`` and ``iter(*tags)``, made
    a string object of every class attribute of the page and walked it twice, five times the time of this walk.
    """
    cdef dict classed = {}
    cdef dict index = {}
    cdef dict pooled = {tag: [] for tag in tags}
    cdef list names_of_tags = [tag.encode() for tag in tags]
    cdef Py_ssize_t count = len(tags), position
    cdef const char* tag_names[MAX_TAGS]
    if count > MAX_TAGS:
        raise ValueError(f"survey() pools {MAX_TAGS} tags at most, not {count}")
    for position in range(count):
        tag_names[position] = <bytes>names_of_tags[position]
    cdef xmlNode* node = root._c_node
    cdef xmlNode* top = node
    cdef xmlAttr* attribute
    cdef const char* plain
    cdef object value, names, element, name, holders
    while node is not NULL:
        if node.type == tree.XML_ELEMENT_NODE:
            element = None
            for position in range(count):
                if node.name[0] == tag_names[position][0] and strcmp(<const char*>node.name, tag_names[position]) == 0:
                    element = cetree.elementFactory(root._doc, node)
                    (<list>pooled[tags[position]]).append(element)
                    break
            attribute = _find(node, "class")
            if attribute is not NULL:
                plain = _plain(attribute)
                if plain is not NULL:
                    value = _decoded(plain, strlen(plain))
                else:
                    value = cetree.elementFactory(root._doc, node).get("class")
                names = known.get(value)
                if names is None:
                    names = names_of(value)
                if names:
                    if element is None:
                        element = cetree.elementFactory(root._doc, node)
                    classed[element] = names
                    for name in names:
                        holders = index.get(name)
                        if holders is None:
                            index[name] = [element]
                        else:
                            (<list>holders).append(element)
        node = _next_in_order(node, top, True)
    return classed, index, pooled


def attribute_contains(cetree._Element root not None, str name not None, str needle not None) -> bool:
    """Whether an element from ``root`` down has the attribute ``name`` with ``needle`` in its value: the XPath
    ``boolean(descendant-or-self::*/@name[contains(., needle)])``."""
    cdef bytes name_bytes = name.encode(), needle_bytes = needle.encode()
    cdef xmlNode* node = root._c_node
    cdef xmlNode* top = node
    cdef xmlAttr* attribute
    cdef const char* plain
    while node is not NULL:
        if node.type == tree.XML_ELEMENT_NODE:
            attribute = _find(node, name_bytes)
            if attribute is not NULL:
                plain = _plain(attribute)
                if plain is not NULL:
                    if strstr(plain, needle_bytes) is not NULL:
                        return True
                elif needle in cetree.elementFactory(root._doc, node).get(name):
                    return True
        node = _next_in_order(node, top, True)
    return False


cdef class CardParts:
    """What a teaser card is read for, from one walk over its subtree.

    ``links``: ``(href, shown text)`` of each ``a[@href]`` below it; ``dated``: the shown text of each element
    wearing the class ``pubdate``, itself included, where it is not empty; ``loose``: the texts below it outside
    links, scripts, styles and ``pubdate`` elements (nor in one above it), where they are not empty; ``sponsored``:
    whether the class attribute of it or of an element below it holds ``sponsor`` or ``anzeige``. Every text is
    :func:`clean`.
    """

    cdef readonly list links, dated, loose
    cdef readonly bint sponsored
    cdef cetree._Document _document

    def __cinit__(self, cetree._Element card not None):
        self.links, self.dated, self.loose = [], [], []
        self.sponsored = False
        self._document = card._doc
        self._visit(card._c_node, _hides_loose_text(card._c_node.parent), True)

    cdef int _visit(self, xmlNode* node, bint hidden, bint top) except -1:
        cdef xmlAttr* attribute = _find(node, "class")
        cdef const char* classes = _plain(attribute) if attribute is not NULL else NULL
        cdef object value
        cdef str text
        cdef bint dated = False
        cdef xmlNode* child
        if attribute is not NULL and classes is NULL:
            value = cetree.elementFactory(self._document, node).get("class")
            dated = "pubdate" in value.split()
            self.sponsored = self.sponsored or "sponsor" in value or "anzeige" in value
        elif classes is not NULL:
            dated = _wears(classes, "pubdate")
            if strstr(classes, "sponsor") is not NULL or strstr(classes, "anzeige") is not NULL:
                self.sponsored = True
        if dated:
            text = _clean(_text_below(node, True))
            if text:
                self.dated.append(text)
        if not top and _named(node, "a"):
            value = _value(node, self._document, "href")
            if value is not None:
                self.links.append((value, _clean(_text_below(node, True))))
        hidden = hidden or dated or _named(node, "a") or _is_code(node)
        child = node.children
        while child is not NULL:
            if child.type == tree.XML_ELEMENT_NODE:
                self._visit(child, hidden, False)
            elif not hidden and _is_text(child) and (child.prev is NULL or not _is_text(child.prev)):
                if not _run_blank(child):
                    text = _clean(_run(&child))
                    if text:
                        self.loose.append(text)
            child = child.next
        return 0


cdef bint _hides_loose_text(xmlNode* node):
    """Whether ``node`` or an element above it is a link, a script, a style or wears ``pubdate``."""
    cdef const char* classes
    cdef xmlAttr* attribute
    while node is not NULL and node.type == tree.XML_ELEMENT_NODE:
        if _named(node, "a") or _is_code(node):
            return True
        attribute = _find(node, "class")
        if attribute is not NULL:
            classes = _plain(attribute)
            if classes is not NULL and _wears(classes, "pubdate"):
                return True
        node = node.parent
    return False


_MARKER_TEXTS = ("article:fokus_txt", "article:full_access")


cdef inline bint _invisible(Py_UCS4 ch) noexcept nogil:
    """Soft hyphen, zero-width space, non-joiner and joiner, word joiner, byte order mark."""
    return ch == 0xAD or 0x200B <= ch <= 0x200D or ch == 0x2060 or ch == 0xFEFF


cdef inline Py_ssize_t _marker_at(int kind, void* data, Py_ssize_t at, Py_ssize_t length) noexcept:
    """The length of the template marker (``article:fokus_txt``, ``article:full_access``) starting at ``at``, else 0."""
    cdef str marker
    cdef Py_ssize_t size, offset
    for marker in _MARKER_TEXTS:
        size = len(marker)
        if at + size > length:
            continue
        for offset in range(size):
            if PyUnicode_READ(kind, data, at + offset) != <Py_UCS4>marker[offset]:
                break
        else:
            return size
    return 0


def clean(text):
    """``text`` with its whitespace collapsed the way ``" ".join(text.split())`` does (every character
    ``str.isspace()`` takes, the no-break space among them, becomes one space; none is left at either end), soft
    hyphens and zero-width characters removed and the template markers ``article:fokus_txt`` and
    ``article:full_access`` taken for a blank; ``""`` for ``None``.

    The markers are found in the text as it is, before anything is removed. A text that is clean already is
    returned as it is.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        raise TypeError(f"clean() takes a str, not {type(text).__name__}")
    return _clean(text)


cdef str _clean(object text):
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef bint markers = "article:" in text
    if _is_clean(kind, data, len(text), markers):
        return text if type(text) is str else str(text)
    return _cleaned(kind, data, len(text), markers)


cdef bint _is_clean(int kind, void* data, Py_ssize_t length, bint markers) noexcept:
    """Whether :func:`clean` leaves the text as it is: no marker, no invisible character, only single spaces
    between other characters. Read with a loop for each width of character, which the compiler makes tight."""
    cdef Py_ssize_t at
    cdef Py_UCS4 before = u" "
    if markers:  # rare: the general loop
        for at in range(length):
            if _dirty(PyUnicode_READ(kind, data, at), &before) or (
                PyUnicode_READ(kind, data, at) == u"a" and _marker_at(kind, data, at, length)
            ):
                return False
    elif kind == PyUnicode_1BYTE_KIND:
        for at in range(length):
            if _dirty((<unsigned char*>data)[at], &before):
                return False
    elif kind == PyUnicode_2BYTE_KIND:
        for at in range(length):
            if _dirty((<unsigned short*>data)[at], &before):
                return False
    else:
        for at in range(length):
            if _dirty((<Py_UCS4*>data)[at], &before):
                return False
    return before != u" "


cdef inline bint _dirty(Py_UCS4 ch, Py_UCS4* before) noexcept:
    """Whether ``ch`` after ``before[0]`` makes a text unclean: a second space in a row, other whitespace, an
    invisible character. Sets ``before[0]`` to ``ch``."""
    cdef Py_UCS4 last = before[0]
    before[0] = ch
    if ch == 0x20:
        return last == 0x20
    if ch < 0x80:
        return ch <= 0x1F and (0x09 <= ch <= 0x0D or ch >= 0x1C)
    return Py_UNICODE_ISSPACE(ch) or _invisible(ch)


cdef str _cleaned(int kind, void* data, Py_ssize_t length, bint markers):
    cdef Py_ssize_t at = 0, kept = 0, skip
    cdef Py_UCS4 ch
    cdef bint blank = False
    cdef void* out = malloc(length * kind)
    if out is NULL:
        raise MemoryError()
    try:
        while at < length:
            ch = PyUnicode_READ(kind, data, at)
            at += 1
            if markers and ch == u"a":
                skip = _marker_at(kind, data, at - 1, length)
                if skip:
                    at += skip - 1
                    blank = True
                    continue
            if ch < 0x80:
                if ch == 0x20 or (ch <= 0x1F and (0x09 <= ch <= 0x0D or ch >= 0x1C)):  # str.isspace() in ASCII
                    blank = True
                    continue
            elif _invisible(ch):
                continue
            elif Py_UNICODE_ISSPACE(ch):
                blank = True
                continue
            if blank and kept:
                PyUnicode_WRITE(kind, out, kept, u" ")
                kept += 1
            blank = False
            PyUnicode_WRITE(kind, out, kept, ch)
            kept += 1
        return PyUnicode_FromKindAndData(kind, out, kept)
    finally:
        free(out)


def word_count(texts) -> int:
    """How many of the space-separated tokens of the cleaned ``texts`` hold a letter or digit (``str.isalnum()``)."""
    cdef Py_ssize_t count = 0
    cdef bint counted
    cdef Py_UCS4 ch
    cdef str text
    for text in texts:
        counted = False
        for ch in text:
            if ch == u" ":
                counted = False
            elif not counted and Py_UNICODE_ISALNUM(ch):
                count += 1
                counted = True
    return count


cdef class ShownTexts:
    """The text nodes from ``root`` down outside scripts and styles, gathered by one walk, to look for phrases in:
    ``holds(phrase)`` is the XPath ``boolean(descendant::text()[contains(., phrase)][not(ancestor::script or
    ancestor::style)])``. It keeps the document alive, and with it the texts (the parser changes no tree)."""

    cdef cetree._Element _root
    cdef const char** _texts
    cdef Py_ssize_t _count

    def __cinit__(self, cetree._Element root not None):
        cdef xmlNode* top = root._c_node
        cdef xmlNode* node = top
        cdef Py_ssize_t size = 0
        cdef const char** grown
        cdef bint enter
        self._root = root
        while node is not NULL and not _is_code(top):
            enter = True
            if _is_text(node) and node.content is not NULL:
                if self._count == size:
                    size = size * 2 if size else 256
                    grown = <const char**>realloc(self._texts, size * sizeof(const char*))
                    if grown is NULL:
                        raise MemoryError()
                    self._texts = grown
                self._texts[self._count] = <const char*>node.content
                self._count += 1
            elif _is_code(node):
                enter = False
            node = _next_in_order(node, top, enter)

    def __dealloc__(self):
        free(self._texts)

    def holds(self, str phrase not None) -> bool:
        cdef bytes needle = phrase.encode()
        cdef const char* wanted = needle
        cdef Py_ssize_t position
        for position in range(self._count):
            if strstr(self._texts[position], wanted) is not NULL:
                return True
        return False


cdef inline Py_UCS4 _code_point(const unsigned char* at, Py_ssize_t* size) noexcept nogil:
    """The character whose UTF-8 sequence starts at ``at`` (libxml2 holds only valid UTF-8), and its length."""
    if at[0] < 0x80:
        size[0] = 1
        return at[0]
    if at[0] < 0xE0:
        size[0] = 2
        return ((at[0] & 0x1F) << 6) | (at[1] & 0x3F)
    if at[0] < 0xF0:
        size[0] = 3
        return ((at[0] & 0x0F) << 12) | ((at[1] & 0x3F) << 6) | (at[2] & 0x3F)
    size[0] = 4
    return ((at[0] & 0x07) << 18) | ((at[1] & 0x3F) << 12) | ((at[2] & 0x3F) << 6) | (at[3] & 0x3F)


cdef bint _holds_words(const char* text, size_t length, list words):
    """Whether ``text`` holds ``words`` in a row with whitespace (``str.isspace()``) between each two: the regex
    ``word\\s+word\\s+…``."""
    cdef const char* first = <bytes>words[0]
    cdef const char* found = strstr(text, first)
    cdef const unsigned char* at
    cdef const unsigned char* end = <const unsigned char*>text + length
    cdef Py_ssize_t size, blanks
    cdef bytes word
    while found is not NULL:
        at = <const unsigned char*>found + len(<bytes>words[0])
        for word in words[1:]:
            blanks = 0
            while at < end and Py_UNICODE_ISSPACE(_code_point(at, &size)):
                at += size
                blanks += 1
            if not blanks or at + len(word) > end or memcmp(at, <const char*>word, len(word)) != 0:
                break
            at += len(word)
        else:
            return True
        found = strstr(found + 1, first)
    return False


def holding_words(cetree._Element root not None, words) -> list:
    """The elements below the children of ``root`` (not scripts or styles) whose string value holds ``words`` in a
    row with whitespace between each two (the regex ``word\\s+word…``, ``\\s`` as ``str.isspace()``), in document
    order."""
    cdef list needles = [word.encode() for word in words]
    cdef list found = []
    cdef xmlNode* section = root._c_node.children
    cdef xmlNode* child
    cdef Buffer buffer
    while section is not NULL:
        if section.type == tree.XML_ELEMENT_NODE:
            child = section.children
            while child is not NULL:
                if child.type == tree.XML_ELEMENT_NODE and not _is_code(child):
                    buffer.data, buffer.length, buffer.size = NULL, 0, 0
                    try:
                        _collect(child, &buffer, False)
                        _append(&buffer, "", 1)
                        if _holds_words(buffer.data, buffer.length - 1, needles):
                            found.append(cetree.elementFactory(root._doc, child))
                    finally:
                        free(buffer.data)
                child = child.next
        section = section.next
    return found


cdef inline bint _is_child(xmlNode* node) noexcept nogil:
    """Whether lxml takes ``node`` for a child of its parent: an element, comment, entity or processing
    instruction (text is the ``.text`` and ``.tail`` of those)."""
    return (node.type == tree.XML_ELEMENT_NODE or node.type == tree.XML_COMMENT_NODE
            or node.type == tree.XML_ENTITY_REF_NODE or node.type == tree.XML_PI_NODE)


cdef str _leading_text(xmlNode* node):
    """lxml's ``.text`` of an element: the run of text before its first child, ``""`` when there is none."""
    cdef xmlNode* first = node.children
    if first is NULL or not _is_text(first):
        return ""
    return _run(&first)


cdef str _tail(xmlNode* node):
    """lxml's ``.tail``: the run of text after ``node`` before its next sibling, ``""`` when there is none."""
    cdef xmlNode* following = node.next
    if following is NULL or not _is_text(following):
        return ""
    return _run(&following)


cdef xmlNode* _next_child(xmlNode* node) noexcept nogil:
    """lxml's ``getnext()``: the next sibling that is no text, NULL when there is none."""
    node = node.next
    while node is not NULL and not _is_child(node):
        node = node.next
    return node


cdef bint _holds_form(xmlNode* top) noexcept nogil:
    """Whether an ``input`` or ``form`` element lies below ``top``: the XPath ``.//input | .//form``."""
    cdef xmlNode* node = top.children
    while node is not NULL:
        if _named(node, "input") or _named(node, "form"):
            return True
        node = _next_in_order(node, top, True)
    return False


cdef class TagsAndClasses:
    """A test of elements for any of ``(tag, class names)`` pairs (tag ``None``: any), prepared once: the
    :attr:`Selector.compounds` of a layout's ``not_body``."""

    cdef list _pairs
    cdef frozenset _tags_alone

    def __cinit__(self, compounds):
        self._pairs = [(tag.encode() if tag else None, [name.encode() for name in names]) for tag, names in compounds]
        self._tags_alone = frozenset(tag for tag, names in compounds if tag and not names)

    cdef bint matches(self, xmlNode* node, cetree._Document document) except -1:
        """Whether the element matches one of the pairs."""
        cdef xmlAttr* attribute = _find(node, "class")
        cdef const char* classes = _plain(attribute) if attribute is not NULL else NULL
        cdef bytes value
        if attribute is NULL:  # most elements: only a tag alone can match them
            return _decoded(<const char*>node.name, strlen(<const char*>node.name)) in self._tags_alone
        if classes is NULL:  # a value of several nodes: as lxml reads it
            value = cetree.elementFactory(document, node).get("class").encode()
            classes = value
        for tag, names in self._pairs:
            if tag is not None and strcmp(<const char*>node.name, <bytes>tag) != 0:
                continue
            if not names:
                return True
            if classes is not NULL and all(_wears(classes, <bytes>name) for name in names):
                return True
        return False


cdef class BodyWalk:
    """A body container's blocks in reading order, ``(kind, text)`` with cleaned, non-empty text; ``hit_paywall``
    when a box opening with a paywall cue ended them.

    Each child of the container, in order: an inline element (``rules.inline``, not skipped) joins the run of
    text around it, a ``br`` as a blank (two: a paragraph break); any other child ends the run, whose parts
    between paragraph breaks are paragraphs. Of those, elements that are never body (``rules.never``, ``amp-*``),
    that ``skip`` matches (a :class:`TagsAndClasses`) or that are boxes are left
    out: a box is a ``div``, ``section`` or ``span`` whose text starts with one of
    ``rules.box_starts`` or that holds a form field, and any element whose text starts with one of
    ``rules.paywall_cues`` (which ends the walk). A ``p`` is a paragraph, a heading (``rules.headings``) a heading, an
    ``li`` a list item, a ``blockquote`` a quote of each of its ``p`` (or of itself without), any other element is
    walked in turn.
    """

    cdef readonly list blocks
    cdef readonly bint hit_paywall
    cdef TagsAndClasses _skip
    cdef object _inline, _never, _headings
    cdef tuple _paywall_cues, _box_starts
    cdef cetree._Document _document

    def __cinit__(self, cetree._Element container not None, TagsAndClasses skip not None, rules):
        self.blocks = []
        self.hit_paywall = False
        self._document = container._doc
        self._skip = skip
        self._inline, self._never, self._headings = rules.inline, rules.never, rules.headings
        self._paywall_cues, self._box_starts = tuple(rules.paywall_cues), tuple(rules.box_starts)
        self._walk(container._c_node)

    cdef int _walk(self, xmlNode* container) except -1:
        cdef list run = [_leading_text(container)]
        cdef xmlNode* child = container.children
        cdef xmlNode* part
        cdef str tag, text
        cdef list quoted
        cdef bint skipped
        while child is not NULL:
            if not _is_child(child):
                child = child.next
                continue
            if self.hit_paywall:
                return 0
            tag = _decoded(<const char*>child.name, strlen(<const char*>child.name)).lower() if (
                child.type == tree.XML_ELEMENT_NODE) else ""
            skipped = child.type == tree.XML_ELEMENT_NODE and self._skip.matches(child, self._document)
            if tag in self._inline and not skipped:
                run.append(self._inline_text(child, tag))
                run.append(_tail(child))
                child = child.next
                continue
            self._flush(run)
            run = [_tail(child)]
            if not tag or tag in self._never or tag.startswith("amp-") or skipped:
                child = child.next
                continue
            text = _clean(_text_below(child, True))
            if self._is_box(child, text):
                child = child.next
                continue
            if tag == "p":
                self._add("paragraph", text)
            elif tag in self._headings:
                self._add("heading", text)
            elif tag == "li":
                self._add("list_item", text)
            elif tag == "blockquote":
                quoted = []
                part = child.children
                while part is not NULL:
                    if _named(part, "p"):
                        quoted.append(_clean(_text_below(part, True)))
                    part = part.next
                for text in quoted or [text]:
                    self._add("quote", text)
            else:
                self._walk(child)
            child = child.next
        self._flush(run)
        return 0

    cdef str _inline_text(self, xmlNode* element, str tag):
        cdef xmlNode* following
        if tag != "br":
            return _text_below(element, True)
        following = _next_child(element)
        return "\n\n" if following is not NULL and _named(following, "br") and not _tail(element).strip() else " "

    cdef bint _is_box(self, xmlNode* element, str text):
        if text.startswith(self._paywall_cues):
            self.hit_paywall = True
            return True
        return (_named(element, "div") or _named(element, "section") or _named(element, "span")) and (
            text.startswith(self._box_starts) or _holds_form(element)
        )

    cdef int _flush(self, list run) except -1:
        cdef str text = "".join(run)
        cdef str paragraph
        if text and not text.isspace():  # most runs are the blanks between two blocks: nothing to clean
            for paragraph in text.split("\n\n"):
                self._add("paragraph", _clean(paragraph))
        return 0

    cdef int _add(self, str kind, str text) except -1:
        if text:
            self.blocks.append((kind, text))
        return 0


cdef inline bint _is_blank(char byte) noexcept nogil:
    return byte == b' ' or byte == b'\t' or byte == b'\r' or byte == b'\n'


def normalized_start(cetree._Element element not None, Py_ssize_t length) -> str:
    """The first ``length`` characters of XPath's ``normalize-space(string(element))`` (all of it when shorter),
    reading no more of the element's text than they take."""
    cdef xmlNode* top = element._c_node
    cdef xmlNode* node = top.children if top.type == tree.XML_ELEMENT_NODE else NULL
    cdef const unsigned char* at
    cdef Buffer buffer
    cdef Py_ssize_t kept = 0
    cdef bint blank = False
    if _is_text(top) and top.content is not NULL:
        node = top
    buffer.data, buffer.length, buffer.size = NULL, 0, 0
    try:
        while node is not NULL and kept < length:
            if _is_text(node) and node.content is not NULL:
                at = <const unsigned char*>node.content
                while at[0] and kept < length:
                    if _is_blank(at[0]):
                        blank = True
                    else:
                        if blank and buffer.length:
                            _append(&buffer, " ", 1)
                            kept += 1
                            if kept == length:
                                break
                        blank = False
                        _append(&buffer, <const char*>at, 1)
                        if at[0] < 0x80 or at[0] >= 0xC0:  # the first byte of a character
                            kept += 1
                        while (at + 1)[0] & 0xC0 == 0x80:  # the rest of its bytes
                            at += 1
                            _append(&buffer, <const char*>at, 1)
                    at += 1
            node = _next_in_order(node, top, True) if node is not top else NULL
        return _decoded(buffer.data, buffer.length) if buffer.length else ""
    finally:
        free(buffer.data)
