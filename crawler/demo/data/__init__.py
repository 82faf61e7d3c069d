"""Data of the offline demo: the local site's articles (written for newswatch) and watches."""
