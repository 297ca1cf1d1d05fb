/*
 * test_ua.c: ua_parse() on real user agents, client hints, and hostile
 * input. Each case is one row: the inputs and the three answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ua.h"
#include "testlib.h"

/* Mirrors UA_SCAN_MAX in fcgi/ua.c: how much of each input is read. */
#define SCAN_MAX 1024

struct ua_case {
	const char *name;
	const char *ua;
	const char *ch_ua;
	const char *ch_platform;
	const char *ch_mobile;
	const char *browser;
	const char *os;
	const char *device;
};

/* A User-Agent alone, and one with its three client hints. */
#define UA(n, ua, b, o, d)                       \
	{                                        \
		n, ua, NULL, NULL, NULL, b, o, d \
	}
#define CH(n, ua, h, p, m, b, o, d)     \
	{                               \
		n, ua, h, p, m, b, o, d \
	}

/* Chrome's frozen ("reduced") UA strings, as sent since Chrome 110. */
#define CHROME_WIN                                                 \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "               \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define CHROME_MAC                                                 \
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "         \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define CHROME_LINUX                                               \
	"Mozilla/5.0 (X11; Linux x86_64) "                         \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define CHROME_ANDROID                                             \
	"Mozilla/5.0 (Linux; Android 10; K) "                      \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Mobile Safari/537.36"
#define CHROME_ANDROID_TAB                                         \
	"Mozilla/5.0 (Linux; Android 10; K) "                      \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define EDGE_WIN CHROME_WIN " Edg/131.0.0.0"
#define FIREFOX_LINUX                                \
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) " \
	"Gecko/20100101 Firefox/133.0"

/* Sec-CH-UA as each browser sends it, GREASE brand included. */
#define CH_CHROME                       \
	"\"Google Chrome\";v=\"131\", " \
	"\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""
#define CH_EDGE                          \
	"\"Microsoft Edge\";v=\"131\", " \
	"\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""
#define CH_BRAVE                                        \
	"\"Brave\";v=\"131\", \"Chromium\";v=\"131\", " \
	"\"Not_A Brand\";v=\"24\""
#define CH_OPERA                                             \
	"\"Chromium\";v=\"128\", \"Not;A=Brand\";v=\"24\", " \
	"\"Opera\";v=\"114\""

static const struct ua_case ua_cases[] = {
	/* Chrome */
	UA("chrome windows", CHROME_WIN, "Chrome 131", "Windows", "Desktop"),
	UA("chrome macos", CHROME_MAC, "Chrome 131", "macOS", "Desktop"),
	UA("chrome linux", CHROME_LINUX, "Chrome 131", "Linux", "Desktop"),
	UA("chrome android phone", CHROME_ANDROID, "Chrome 131", "Android",
	    "Phone"),
	UA("chrome android tablet, no Mobile", CHROME_ANDROID_TAB, "Chrome 131",
	    "Android", "Tablet"),
	UA("chrome ios is CriOS",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 "
	    "Mobile/15E148 Safari/604.1",
	    "Chrome 131", "iOS", "Phone"),
	UA("chrome ipad",
	    "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 "
	    "Mobile/15E148 Safari/604.1",
	    "Chrome 131", "iPadOS", "Tablet"),
	UA("chrome chromeos",
	    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	    "Chrome 131", "ChromeOS", "Desktop"),
	UA("chrome older full version, windows 7",
	    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/109.0.5414.120 Safari/537.36",
	    "Chrome 109", "Windows", "Desktop"),
	UA("android webview",
	    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; "
	    "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
	    "Chrome/131.0.6778.81 Mobile Safari/537.36",
	    "Chrome 131", "Android", "Phone"),
	UA("headless chrome is still chrome",
	    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
	    "Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36",
	    "Chrome 131", "Linux", "Desktop"),
	UA("cubot phone is not a bot",
	    "Mozilla/5.0 (Linux; Android 9; CUBOT_X19) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/86.0.4240.99 Mobile Safari/537.36",
	    "Chrome 86", "Android", "Phone"),
	UA("kindle silk says like Chrome, no Mobile",
	    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Silk/131.2.1 like Chrome/131.0.6778.85 "
	    "Safari/537.36",
	    "Chrome 131", "Android", "Tablet"),

	/* Firefox */
	UA("firefox windows",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) "
	    "Gecko/20100101 Firefox/133.0",
	    "Firefox 133", "Windows", "Desktop"),
	UA("firefox macos",
	    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) "
	    "Gecko/20100101 Firefox/133.0",
	    "Firefox 133", "macOS", "Desktop"),
	UA("firefox linux", FIREFOX_LINUX, "Firefox 133", "Linux", "Desktop"),
	UA("firefox ubuntu",
	    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) "
	    "Gecko/20100101 Firefox/133.0",
	    "Firefox 133", "Linux", "Desktop"),
	UA("firefox android phone",
	    "Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 "
	    "Firefox/133.0",
	    "Firefox 133", "Android", "Phone"),
	UA("firefox android tablet",
	    "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 "
	    "Firefox/133.0",
	    "Firefox 133", "Android", "Tablet"),
	UA("firefox ios is FxiOS",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 "
	    "Mobile/15E148 Safari/605.1.15",
	    "Firefox 133", "iOS", "Phone"),
	UA("firefox ipad",
	    "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 "
	    "Mobile/15E148 Safari/605.1.15",
	    "Firefox 133", "iPadOS", "Tablet"),
	UA("firefox esr, 32-bit windows",
	    "Mozilla/5.0 (Windows NT 10.0; rv:115.0) Gecko/20100101 "
	    "Firefox/115.0",
	    "Firefox 115", "Windows", "Desktop"),

	/* Safari */
	UA("safari macos",
	    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
	    "Safari/605.1.15",
	    "Safari 18", "macOS", "Desktop"),
	UA("safari iphone",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
	    "Mobile/15E148 Safari/604.1",
	    "Safari 18", "iOS", "Phone"),
	UA("safari ipad",
	    "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 "
	    "Mobile/15E148 Safari/604.1",
	    "Safari 17", "iPadOS", "Tablet"),
	/* Byte for byte a Mac: without hints nothing tells them apart. */
	UA("safari ipad desktop mode says Macintosh",
	    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 "
	    "Safari/605.1.15",
	    "Safari 17", "macOS", "Desktop"),
	UA("safari ipod",
	    "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_8 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6.6 "
	    "Mobile/15E148 Safari/604.1",
	    "Safari 15", "iOS", "Phone"),
	UA("ios google app: Safari/ without Version/",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.695551749 "
	    "Mobile/15E148 Safari/604.1",
	    "Safari", "iOS", "Phone"),
	UA("android stock browser is not safari",
	    "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L "
	    "Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) "
	    "Version/4.0 Mobile Safari/534.30",
	    "Unknown", "Android", "Phone"),

	/* Edge */
	UA("edge windows", EDGE_WIN, "Edge 131", "Windows", "Desktop"),
	UA("edge macos", CHROME_MAC " Edg/131.0.0.0", "Edge 131", "macOS",
	    "Desktop"),
	UA("edge android is EdgA", CHROME_ANDROID " EdgA/131.0.0.0", "Edge 131",
	    "Android", "Phone"),
	UA("edge ios is EdgiOS",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
	    "EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15",
	    "Edge 131", "iOS", "Phone"),
	UA("edge legacy EdgeHTML",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 "
	    "Edge/18.19045",
	    "Edge 18", "Windows", "Desktop"),
	UA("edge windows phone also says Android",
	    "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; "
	    "Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) "
	    "Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
	    "Edge 15", "Windows", "Phone"),

	/* Opera */
	UA("opera windows is OPR",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 "
	    "OPR/114.0.0.0",
	    "Opera 114", "Windows", "Desktop"),
	UA("opera macos",
	    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 "
	    "Safari/537.36 OPR/114.0.0.0",
	    "Opera 114", "macOS", "Desktop"),
	UA("opera linux",
	    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
	    "Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0",
	    "Opera 114", "Linux", "Desktop"),
	UA("opera android",
	    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, "
	    "like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
	    "Opera 86", "Android", "Phone"),
	UA("opera mini ios is OPiOS",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) OPiOS/16.0.15.124050 "
	    "Mobile/16B92 Safari/9537.53",
	    "Opera 16", "iOS", "Phone"),
	UA("opera presto: version in Version/",
	    "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18",
	    "Opera 12", "Windows", "Desktop"),

	/* Samsung Internet, Vivaldi, Yandex */
	UA("samsung internet phone",
	    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S928B) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 "
	    "Chrome/125.0.0.0 Mobile Safari/537.36",
	    "Samsung Internet 27", "Android", "Phone"),
	UA("samsung internet tablet",
	    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-X710) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 "
	    "Chrome/125.0.0.0 Safari/537.36",
	    "Samsung Internet 27", "Android", "Tablet"),
	UA("vivaldi",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 "
	    "Vivaldi/7.0.3495.18",
	    "Vivaldi 7", "Windows", "Desktop"),
	UA("yandex",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 "
	    "Safari/537.36",
	    "Yandex 24", "Windows", "Desktop"),
	UA("internet explorer 11 is not a family we name",
	    "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) "
	    "like Gecko",
	    "Unknown", "Windows", "Desktop"),

	/* Tools and crawlers: Unknown throughout, whatever they claim. */
	UA("curl", "curl/8.5.0", "Unknown", "Unknown", "Unknown"),
	UA("wget", "Wget/1.21.4", "Unknown", "Unknown", "Unknown"),
	UA("python requests", "python-requests/2.32.3", "Unknown", "Unknown",
	    "Unknown"),
	UA("go", "Go-http-client/2.0", "Unknown", "Unknown", "Unknown"),
	UA("googlebot",
	    "Mozilla/5.0 (compatible; Googlebot/2.1; "
	    "+http://www.google.com/bot.html)",
	    "Unknown", "Unknown", "Unknown"),
	UA("googlebot smartphone dressed as chrome android",
	    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 "
	    "Mobile Safari/537.36 (compatible; Googlebot/2.1; "
	    "+http://www.google.com/bot.html)",
	    "Unknown", "Unknown", "Unknown"),
	UA("bingbot",
	    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
	    "bingbot/2.0; +http://www.bing.com/bingbot.htm) "
	    "Chrome/116.0.1938.76 Safari/537.36",
	    "Unknown", "Unknown", "Unknown"),
	UA("baiduspider",
	    "Mozilla/5.0 (compatible; Baiduspider/2.0; "
	    "+http://www.baidu.com/search/spider.html)",
	    "Unknown", "Unknown", "Unknown"),
	UA("facebook link preview",
	    "facebookexternalhit/1.1 "
	    "(+http://www.facebook.com/externalhit_uatext.php)",
	    "Unknown", "Unknown", "Unknown"),
	UA("slackbot",
	    "Slackbot-LinkExpanding 1.0 "
	    "(+https://api.slack.com/robots)",
	    "Unknown", "Unknown", "Unknown"),
	UA("gptbot",
	    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
	    "GPTBot/1.2; +https://openai.com/gptbot)",
	    "Unknown", "Unknown", "Unknown"),

	/* Hostile and degenerate input */
	UA("NULL", NULL, "Unknown", "Unknown", "Unknown"),
	UA("empty", "", "Unknown", "Unknown", "Unknown"),
	UA("just Mozilla", "Mozilla/5.0", "Unknown", "Unknown", "Unknown"),
	UA("garbage bytes", "\x01\x02\x7f\xff\xfe garbage \x80\xc0", "Unknown",
	    "Unknown", "Unknown"),
	UA("xss", "<img src=x onerror=alert(1)>", "Unknown", "Unknown",
	    "Unknown"),
	UA("xss inside a chrome ua",
	    "Mozilla/5.0 (Windows NT 10.0) <script>alert(1)</script> "
	    "Chrome/131.0 Safari/537.36",
	    "Chrome 131", "Windows", "Desktop"),
	UA("token at the very end, no version",
	    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 "
	    "Firefox/",
	    "Firefox", "Linux", "Desktop"),
	UA("version too long to be one",
	    "Mozilla/5.0 (Windows NT 10.0) Chrome/99999999999999999999.0",
	    "Chrome", "Windows", "Desktop"),
	UA("five digits is still a version",
	    "Mozilla/5.0 (Windows NT 10.0) Chrome/99999.0", "Chrome 99999",
	    "Windows", "Desktop"),
	UA("leading zeros", "Mozilla/5.0 (Windows NT 10.0) Chrome/00131.0",
	    "Chrome 131", "Windows", "Desktop"),
	UA("token glued to a word is not the token",
	    "Mozilla/5.0 (Windows NT 10.0) XChrome/131.0 FooFirefox/133",
	    "Unknown", "Windows", "Desktop"),
	UA("a lone Mobi", "SomePhone/1.0 Mobile", "Unknown", "Unknown",
	    "Phone"),
	UA("safari on windows is not safari",
	    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/534.57.2 (KHTML, like "
	    "Gecko) Version/5.1.7 Safari/534.57.2",
	    "Unknown", "Windows", "Desktop"),
};

static const struct ua_case ch_cases[] = {
	CH("frozen windows ua refined by hints", CHROME_WIN, CH_CHROME,
	    "\"Windows\"", "?0", "Chrome 131", "Windows", "Desktop"),
	CH("edge named only in the brand list", CHROME_WIN, CH_EDGE,
	    "\"Windows\"", "?0", "Edge 131", "Windows", "Desktop"),
	CH("edge with the brands in another order", EDGE_WIN,
	    "\"Not_A Brand\";v=\"24\", \"Chromium\";v=\"131\", "
	    "\"Microsoft Edge\";v=\"131\"",
	    "\"Windows\"", "?0", "Edge 131", "Windows", "Desktop"),
	CH("brave only says so in hints", CHROME_MAC, CH_BRAVE, "\"macOS\"",
	    "?0", "Brave 131", "macOS", "Desktop"),
	CH("opera, GREASE with ; and = inside quotes",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 "
	    "OPR/114.0.0.0",
	    CH_OPERA, "\"Windows\"", "?0", "Opera 114", "Windows", "Desktop"),
	CH("grease first, then chromium, no ua", NULL,
	    "\"Not A(Brand\";v=\"99\", \"Chromium\";v=\"131\"", NULL, NULL,
	    "Chrome 131", "Unknown", "Unknown"),
	CH("grease only leaves the ua's answer", CHROME_LINUX,
	    "\"Not_A Brand\";v=\"8\"", "\"Linux\"", "?0", "Chrome 131", "Linux",
	    "Desktop"),
	CH("chromium does not override a named ua browser",
	    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 "
	    "Vivaldi/7.0.3495.18",
	    "\"Chromium\";v=\"130\", \"Not?A_Brand\";v=\"99\"", "\"Windows\"",
	    "?0", "Vivaldi 7", "Windows", "Desktop"),
	CH("hints alone, no ua", NULL, CH_CHROME, "\"macOS\"", "?0",
	    "Chrome 131", "macOS", "Desktop"),
	CH("android phone", CHROME_ANDROID, CH_CHROME, "\"Android\"", "?1",
	    "Chrome 131", "Android", "Phone"),
	CH("a tablet ua stays a tablet", CHROME_ANDROID_TAB, CH_CHROME,
	    "\"Android\"", "?1", "Chrome 131", "Android", "Tablet"),
	CH("android desktop mode: linux ua, android hints", CHROME_LINUX,
	    CH_CHROME, "\"Android\"", "?0", "Chrome 131", "Android", "Tablet"),
	CH("chromeos platform",
	    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	    CH_CHROME, "\"Chrome OS\"", "?0", "Chrome 131", "ChromeOS",
	    "Desktop"),
	CH("platform hint wins over the ua", CHROME_WIN, CH_CHROME, "\"Linux\"",
	    "?0", "Chrome 131", "Linux", "Desktop"),
	CH("ios hint keeps the ua's ipad",
	    "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 "
	    "Mobile/15E148 Safari/604.1",
	    NULL, "\"iOS\"", "?1", "Chrome 131", "iPadOS", "Tablet"),
	CH("mobile hint with no ua", NULL, NULL, NULL, "?1", "Unknown",
	    "Unknown", "Phone"),
	CH("platform hint alone gives a device class", NULL, NULL,
	    "\"Windows\"", NULL, "Unknown", "Windows", "Desktop"),
	CH("optional whitespace around hints", NULL,
	    "  \"Microsoft Edge\";v=\"131\" ,\t\"Chromium\";v=\"131\"  ",
	    " \"Windows\" ", " ?1\t", "Edge 131", "Windows", "Phone"),
	CH("brand without v keeps the ua's version", EDGE_WIN,
	    "\"Microsoft Edge\", \"Chromium\";v=\"131\"", NULL, NULL,
	    "Edge 131", "Windows", "Desktop"),
	CH("spaces after ;", NULL, "\"Google Chrome\";  v=\"131\";   x", NULL,
	    NULL, "Chrome 131", "Unknown", "Unknown"),
	CH("unquoted v still a version", NULL, "\"Google Chrome\";v=131;x;y=?1",
	    NULL, NULL, "Chrome 131", "Unknown", "Unknown"),
	CH("escaped brand matches nothing", CHROME_WIN,
	    "\"Micro\\\"soft Edge\";v=\"131\"", NULL, NULL, "Chrome 131",
	    "Windows", "Desktop"),
	CH("bots ignore hints", "curl/8.5.0", CH_CHROME, "\"Windows\"", "?0",
	    "Unknown", "Unknown", "Unknown"),

	/* Malformed hints are ignored whole; the UA's answer stands. */
	CH("unterminated quote", CHROME_WIN, "\"Microsoft Edge;v=\"131",
	    "\"Windows", "?", "Chrome 131", "Windows", "Desktop"),
	CH("unterminated quote at the end", CHROME_WIN,
	    "\"Microsoft Edge\";v=\"131\", \"Brave", NULL, NULL, "Chrome 131",
	    "Windows", "Desktop"),
	CH("trailing comma", CHROME_WIN, "\"Microsoft Edge\";v=\"131\", ", NULL,
	    NULL, "Chrome 131", "Windows", "Desktop"),
	CH("no quotes", CHROME_WIN, "Microsoft Edge;v=131", "Windows", "1",
	    "Chrome 131", "Windows", "Desktop"),
	CH("missing comma", CHROME_WIN,
	    "\"Microsoft Edge\";v=\"131\" \"Chromium\"", NULL, NULL,
	    "Chrome 131", "Windows", "Desktop"),
	CH("bad parameter key", CHROME_WIN, "\"Microsoft Edge\";V=\"131\"",
	    NULL, NULL, "Chrome 131", "Windows", "Desktop"),
	CH("empty parameter value", CHROME_WIN,
	    "\"Microsoft Edge\";v=, \"Chromium\"", NULL, NULL, "Chrome 131",
	    "Windows", "Desktop"),
	CH("control byte in a brand", CHROME_WIN,
	    "\"Microsoft\tEdge\";v=\"131\"", NULL, NULL, "Chrome 131",
	    "Windows", "Desktop"),
	CH("bad escape", CHROME_WIN, "\"Microsoft Edge\\n\";v=\"131\"", NULL,
	    NULL, "Chrome 131", "Windows", "Desktop"),
	CH("lone backslash at the end", CHROME_WIN, "\"\\", "\"\\", NULL,
	    "Chrome 131", "Windows", "Desktop"),
	CH("huge version in hints", NULL,
	    "\"Google Chrome\";v=\"999999999999999999999999\"", NULL, NULL,
	    "Chrome", "Unknown", "Unknown"),
	CH("non-numeric version", NULL, "\"Google Chrome\";v=\"x1\"", NULL,
	    NULL, "Chrome", "Unknown", "Unknown"),
	CH("unknown platform", FIREFOX_LINUX, NULL, "\"Plan 9\"", NULL,
	    "Firefox 133", "Linux", "Desktop"),
	CH("platform with trailing junk", CHROME_WIN, NULL, "\"Linux\" x", NULL,
	    "Chrome 131", "Windows", "Desktop"),
	CH("two platforms", CHROME_WIN, NULL, "\"Linux\", \"macOS\"", NULL,
	    "Chrome 131", "Windows", "Desktop"),
	CH("mobile with junk", CHROME_WIN, NULL, NULL, "?1x", "Chrome 131",
	    "Windows", "Desktop"),
	CH("mobile ?2", CHROME_WIN, NULL, NULL, "?2", "Chrome 131", "Windows",
	    "Desktop"),
	CH("empty hints", CHROME_WIN, "", "", "", "Chrome 131", "Windows",
	    "Desktop"),
	CH("xss in hints", CHROME_WIN, "\"<img src=x onerror=alert(1)>\"",
	    "\"<script>\"", "<b>", "Chrome 131", "Windows", "Desktop"),
};

static void
check(const struct ua_case *c)
{
	struct ua_info info;

	/* Poison, so a field left unwritten cannot pass by luck. */
	memset(&info, 'Z', sizeof(info));
	ua_parse(c->ua, c->ch_ua, c->ch_platform, c->ch_mobile, &info);
	if (strcmp(info.browser, c->browser) != 0 ||
	    strcmp(info.os, c->os) != 0 || strcmp(info.device, c->device) != 0)
		print_error("case \"%s\": got %s / %s / %s, "
			    "want %s / %s / %s\n",
		    c->name, info.browser, info.os, info.device, c->browser,
		    c->os, c->device);
	assert_string_equal(info.browser, c->browser);
	assert_string_equal(info.os, c->os);
	assert_string_equal(info.device, c->device);
}

static void
test_ua_strings(void **state)
{
	size_t i;

	(void)state;
	assert_true(nitems(ua_cases) >= 40);
	for (i = 0; i < nitems(ua_cases); i++)
		check(&ua_cases[i]);
}

static void
test_client_hints(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(ch_cases); i++)
		check(&ch_cases[i]);
}

/* A heap copy of s padded with fill to n bytes, NUL-terminated. */
static char *
padded(const char *s, char fill, size_t n)
{
	char *p;
	size_t len;

	len = strlen(s);
	assert_true(len <= n);
	p = malloc(n + 1);
	assert_non_null(p);
	memcpy(p, s, len);
	memset(p + len, fill, n - len);
	p[n] = '\0';
	return p;
}

static void
test_long_inputs(void **state)
{
	struct ua_case c = { "5 KiB", NULL, NULL, NULL, NULL, "Unknown",
		"Unknown", "Unknown" };
	char *big, *hint;

	(void)state;

	/* 5 KiB of padding after a real UA: the prefix is enough. */
	big = padded(EDGE_WIN " ", 'A', 5 * 1024);
	c.ua = big;
	c.browser = "Edge 131";
	c.os = "Windows";
	c.device = "Desktop";
	check(&c);
	free(big);

	/* 5 KiB of padding before it: what is past the bound is unread. */
	big = padded("", 'A', 5 * 1024);
	memcpy(big + 5 * 1024 - strlen(EDGE_WIN), EDGE_WIN, strlen(EDGE_WIN));
	c.ua = big;
	c.browser = "Unknown";
	c.os = "Unknown";
	c.device = "Unknown";
	check(&c);

	/*
	 * A 5 KiB hint is refused even though its start parses: a real one
	 * is under 200 bytes, and a cut list is not the list.
	 */
	hint = padded(CH_EDGE ", ", ' ', 5 * 1024);
	c.ua = CHROME_WIN;
	c.ch_ua = hint;
	c.ch_platform = hint;
	c.ch_mobile = hint;
	c.browser = "Chrome 131";
	c.os = "Windows";
	c.device = "Desktop";
	check(&c);
	free(hint);

	/* 5 KiB of one token over and over. */
	memset(big, 0, 5 * 1024);
	while (strlen(big) + 8 < 5 * 1024)
		memcpy(big + strlen(big), "Chrome/1", 8);
	c.ua = big;
	c.ch_ua = c.ch_platform = c.ch_mobile = NULL;
	c.browser = "Chrome 1";
	c.os = "Unknown";
	c.device = "Unknown";
	check(&c);
	free(big);
}

/*
 * Inputs with no NUL at all, exactly SCAN_MAX bytes long in their own
 * allocation: AddressSanitizer reports any read past the bound.
 */
static void
test_reads_bounded(void **state)
{
	struct ua_info info;
	char *ua, *ch;

	(void)state;
	ua = malloc(SCAN_MAX);
	ch = malloc(SCAN_MAX);
	assert_non_null(ua);
	assert_non_null(ch);
	memset(ua, 'A', SCAN_MAX);
	memcpy(ua, EDGE_WIN, strlen(EDGE_WIN));
	memset(ch, ' ', SCAN_MAX);
	memcpy(ch, CH_BRAVE, strlen(CH_BRAVE));
	ua_parse(ua, ch, ch, ch, &info);
	assert_string_equal(info.browser, "Edge 131");
	assert_string_equal(info.os, "Windows");
	assert_string_equal(info.device, "Desktop");

	/* A token cut by the bound: "Chrome/1" of "Chrome/131". */
	memset(ua, ' ', SCAN_MAX);
	memcpy(ua + SCAN_MAX - 8, "Chrome/1", 8);
	ua_parse(ua, NULL, NULL, NULL, &info);
	assert_string_equal(info.browser, "Chrome 1");
	free(ua);
	free(ch);
}

static void
test_null_out(void **state)
{
	struct ua_info got;

	(void)state;
	/* No out: nothing written, and the cache keeps no half entry. */
	ua_parse(CHROME_WIN, CH_CHROME, "\"Windows\"", "?0", NULL);
	ua_parse_cached(CHROME_WIN, CH_CHROME, "\"Windows\"", "?0", NULL);
	memset(&got, 0, sizeof(got));
	ua_parse_cached(CHROME_WIN, CH_CHROME, "\"Windows\"", "?0", &got);
	assert_string_equal(got.browser, "Chrome 131");
	assert_string_equal(got.os, "Windows");
	assert_string_equal(got.device, "Desktop");
}

static void
assert_same(const struct ua_info *a, const struct ua_info *b)
{
	assert_string_equal(a->browser, b->browser);
	assert_string_equal(a->os, b->os);
	assert_string_equal(a->device, b->device);
}

/*
 * The cache answers exactly what the parser does: every case twice (a
 * miss, then a hit), all cases in turn so that slots are shared and
 * overwritten, and a key too long to keep.
 */
static void
test_cached(void **state)
{
	const struct ua_case *c;
	struct ua_info a, b;
	char big[2048];
	size_t i, round;

	(void)state;
	for (round = 0; round < 2; round++) {
		for (i = 0; i < nitems(ua_cases) + nitems(ch_cases); i++) {
			c = i < nitems(ua_cases)
			    ? &ua_cases[i]
			    : &ch_cases[i - nitems(ua_cases)];
			ua_parse(
			    c->ua, c->ch_ua, c->ch_platform, c->ch_mobile, &a);
			memset(&b, 'Z', sizeof(b));
			ua_parse_cached(
			    c->ua, c->ch_ua, c->ch_platform, c->ch_mobile, &b);
			assert_same(&a, &b);
		}
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ua_parse(big, NULL, NULL, NULL, &a);
	ua_parse_cached(big, NULL, NULL, NULL, &b);
	assert_same(&a, &b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ua_strings),
		cmocka_unit_test(test_client_hints),
		cmocka_unit_test(test_long_inputs),
		cmocka_unit_test(test_reads_bounded),
		cmocka_unit_test(test_null_out),
		cmocka_unit_test(test_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
