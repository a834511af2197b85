"""Voice of the customer: verbatims to topics, sentiment and drivers.

``fit_topics`` (TF-IDF + NMF, seeded) scores each response's topics and sentiment;
``join_topics`` adds ``topic_<k>`` flags to the responses table for the driver model;
``topic_prevalence``, ``example_verbatims`` and ``topic_association`` make the report's
tables; ``voice_view`` is what a dashboard reads from a saved run.
"""

from cxkit.voice.as_drivers import topic_driver_columns
from cxkit.voice.language import LANGUAGES, detect_language, dominant_language
from cxkit.voice.summaries import example_verbatims, topic_association, topic_prevalence
from cxkit.voice.plots import plot_topic_prevalence
from cxkit.voice.topics import TopicModel, fit_topic_model, fit_topics, join_topics
from cxkit.voice.view import voice_view

__all__ = ["LANGUAGES", "TopicModel", "detect_language", "dominant_language",
           "example_verbatims", "fit_topic_model", "fit_topics", "join_topics",
           "plot_topic_prevalence", "topic_association", "topic_driver_columns",
           "topic_prevalence", "voice_view"]
