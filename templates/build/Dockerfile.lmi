# DJL Serving LMI {{ENGINE_VERSION}} behind the model-deploy gateway (rendered by build-model).
# The serving gateway: nginx built from its release source (version and SHA-256 pinned in build-nginx.sh) on
# this same base image, so it runs on the C library it was built against.
FROM {{BASE_IMAGE}} AS gateway
COPY model-deploy/serving/build-nginx.sh /tmp/build-nginx.sh
RUN bash /tmp/build-nginx.sh /opt/model-deploy/nginx

FROM {{BASE_IMAGE}}
# The gateway serves 8080; DJL Serving moves to 127.0.0.1:8081 (its default would be 8080).
# LMI is configured with OPTION_* variables (engine.env), not command-line arguments.
ENV MODEL_DEPLOY_MODEL_DIR=/opt/ml/model \
    HF_MODEL_ID=/opt/ml/model
RUN mkdir -p /opt/djl/conf && printf '\ninference_address=http://127.0.0.1:8081\nmanagement_address=http://127.0.0.1:8082\n' >> /opt/djl/conf/config.properties
ENV MODEL_DEPLOY_ENGINE_CMD="djl-serving"
{{ENGINE_ENV}}
COPY --from=gateway /opt/model-deploy/nginx /opt/model-deploy/nginx
COPY model-deploy/serving/ /opt/model-deploy/
RUN chmod 0755 /opt/model-deploy/serve.sh
{{BAKED_WEIGHTS}}
EXPOSE 8080
ENTRYPOINT ["/opt/model-deploy/serve.sh"]
