"""Built-in survey templates (SPEC section 3) and each role's permissions on
complaints and surveys (accounts.roles)."""

from django.db import migrations

RECOMMEND = ("nps", "How likely are you to recommend us to a friend or colleague?",
             "您向朋友或同事推荐我们的可能性有多大？", [], True)
YES_PARTLY_NO = [
    {"value": "yes", "label": "Yes", "label_zh": "是"},
    {"value": "partly", "label": "Partly", "label_zh": "部分"},
    {"value": "no", "label": "No", "label_zh": "否"},
]
TEMPLATES = [
    (
        "quarterly-satisfaction", "quarterly", "Quarterly satisfaction survey", "季度满意度调查",
        "Thank you for working with us. Three minutes of your time help us serve you better.",
        "感谢您与我们的合作。占用您三分钟时间，帮助我们更好地为您服务。",
        [
            ("rating", "Overall, how satisfied are you with our products and service this quarter?",
             "总体而言，您对本季度我们的产品和服务满意吗？", [], True),
            ("rating", "How satisfied are you with your account manager's responsiveness?",
             "您对客户经理的响应速度满意吗？", [], True),
            ("rating", "How well do our products meet your needs?",
             "我们的产品满足您需求的程度如何？", [], True),
            RECOMMEND,
            ("text", "What should we do better?", "我们还有哪些需要改进的地方？", [], False),
        ],
    ),
    (
        "post-project-evaluation", "post_project", "Post-project evaluation", "项目后评估",
        "Your project is complete. Please tell us how it went.",
        "您的项目已经完成，请告诉我们您的评价。",
        [
            ("rating", "How satisfied are you with the delivery of the project?",
             "您对项目交付满意吗？", [], True),
            ("rating", "How satisfied are you with the project team?", "您对项目团队满意吗？", [],
             True),
            ("choice", "Did the project meet its goals?", "项目是否达到了预期目标？", YES_PARTLY_NO,
             True),
            RECOMMEND,
            ("text", "Anything else you would like to tell us?", "您还有其他想告诉我们的吗？", [],
             False),
        ],
    ),
    (
        "post-complaint-follow-up", "post_complaint", "Post-complaint follow-up", "投诉处理回访",
        "We recently handled a complaint of yours. Was it handled well?",
        "我们最近处理了您的投诉，请问处理得是否令您满意？",
        [
            ("rating", "How satisfied are you with how we handled your complaint?",
             "您对我们处理投诉的方式满意吗？", [], True),
            ("rating", "How satisfied are you with how quickly we responded?",
             "您对我们的响应速度满意吗？", [], True),
            ("choice", "Is the problem solved?", "问题是否已经解决？", YES_PARTLY_NO, True),
            ("text", "How could we have done better?", "我们怎样可以做得更好？", [], False),
        ],
    ),
    (
        "nps", "nps", "Net promoter score", "净推荐值调查",
        "One question, one minute.", "只有一个问题，只需一分钟。",
        [
            RECOMMEND,
            ("text", "What is the main reason for your score?", "您给出这个分数的主要原因是什么？",
             [], False),
        ],
    ),
]


def create(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    template_model = apps.get_model("clients", "SurveyTemplate")
    question_model = apps.get_model("clients", "SurveyQuestion")
    for code, kind, name, name_zh, intro, intro_zh, questions in TEMPLATES:
        template, created = template_model.objects.get_or_create(
            code=code,
            defaults={"kind": kind, "name": name, "name_zh": name_zh, "intro": intro,
                      "intro_zh": intro_zh, "is_builtin": True},
        )
        if created:
            for position, (qkind, text, text_zh, choices, required) in enumerate(questions):
                question_model.objects.create(template=template, position=position, kind=qkind,
                                              text=text, text_zh=text_zh, choices=choices,
                                              required=required)
    apply_role_defaults(apps, "clients")


class Migration(migrations.Migration):
    dependencies = [("clients", "0005_complaints_and_surveys")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
